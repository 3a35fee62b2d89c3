import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from './chart';
import { markdownTable, Row } from './table';

/**
 * Where a run's results go. A full run writes latest.*, the committed figures the README quotes;
 * a --quick run (fewer records, no engine-lag rows) writes quick.*, so it never replaces them.
 */
export function resultFiles(quick: boolean): { json: string; svg: string; lambdaSvg: string; md: string } {
  const base = `bench/results/${quick ? 'quick' : 'latest'}`;
  return { json: `${base}.json`, svg: `${base}.svg`, lambdaSvg: `${base}-lambda.svg`, md: `${base}.md` };
}

/** The Lambda-shaped section: its tables (markdown, appended to the file) and its chart. */
export interface LambdaSection {
  readonly markdown: string;
  readonly svg: string;
}

/** Writes the report, charts and tables under `root`; returns the paths written, relative to it. */
export function writeResults(root: string, quick: boolean, report: object, rows: Row[], lambda?: LambdaSection): string[] {
  const files = resultFiles(quick);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, files.json), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(root, files.svg), renderChart(rows));
  writeFileSync(join(root, files.md), markdownTable(rows) + (lambda ? `\n${lambda.markdown}` : ''));
  if (lambda) writeFileSync(join(root, files.lambdaSvg), lambda.svg);
  return [files.json, files.svg, ...(lambda ? [files.lambdaSvg] : []), files.md];
}
