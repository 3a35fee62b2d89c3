import { ensurePackDependencies } from './policy-pack-deps';

// Loaded by mocha (.mocharc.json "require") before any test file, so a fresh clone gets the pack's
// own dependencies before tests import its rules or start it under Pulumi's runner.
ensurePackDependencies();
