import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from './chart';
import { markdownTable, Row } from './table';

/**
 * Where a run's results go. A full run writes latest.*, the committed figures the README quotes;
 * a --quick run (fewer records, no engine-lag rows) writes quick.*, so it never replaces them.
 */
export function resultFiles(quick: boolean): { json: string; svg: string; md: string } {
  const base = `bench/results/${quick ? 'quick' : 'latest'}`;
  return { json: `${base}.json`, svg: `${base}.svg`, md: `${base}.md` };
}

/** Writes the report, chart and table under `root`; returns the paths written, relative to it. */
export function writeResults(root: string, quick: boolean, report: object, rows: Row[]): string[] {
  const files = resultFiles(quick);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, files.json), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(root, files.svg), renderChart(rows));
  writeFileSync(join(root, files.md), markdownTable(rows));
  return [files.json, files.svg, files.md];
}
