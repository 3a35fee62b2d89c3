import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planProgram } from '../preview/run-program';

/**
 * The offline preview of the stack program for N tables with 4 replica regions each: resources,
 * wall time and heap growth. Each size gets a throwaway stack file beside Pulumi.yaml.
 */
export async function infraScaling(root: string, counts: number[]) {
  const out = [];
  for (const tables of counts) {
    const stack = `bench-${tables}`;
    const regions = ['eu-west-1', 'ap-southeast-2', 'us-west-2', 'eu-central-1'];
    const table = (t: number) => `    - name: Table${t}\n      partitionKey: { name: id, type: S }\n      primaryRegion: us-east-1\n      replicaRegions: [${regions.join(', ')}]\n`;
    const file = join(root, `Pulumi.${stack}.yaml`);
    writeFileSync(file, `config:\n  ddb-replicator:tables:\n${Array.from({ length: tables }, (_, t) => table(t)).join('')}`);
    try {
      global.gc?.();
      const heap = process.memoryUsage().heapUsed;
      const t0 = Date.now();
      const plan = await planProgram(root, stack);
      out.push({ tables, resources: plan.resources.length, seconds: +((Date.now() - t0) / 1000).toFixed(2), heapMb: Math.max(0, Math.round((process.memoryUsage().heapUsed - heap) / 2 ** 20)) });
    } finally {
      rmSync(file, { force: true });
    }
  }
  return out;
}
