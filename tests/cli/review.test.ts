import { strict as assert } from 'node:assert';
import { ensureStateTable } from '../../local/tables';
import { client } from '../support/ddb';
import { project } from './support';

describe('ddb-replicator review (DynamoDB Local)', function () {
  this.timeout(60_000);

  it('exits 2, not 0, when a region did not answer: it may hold entries', async () => {
    const p = project();
    try {
      await ensureStateTable(client('us-east-1'), p.table);
      const r = await p.exec('review');
      assert.equal(r.code, 2, r.text);
      assert.match(r.text, /nothing to review in the regions that answered \(not eu-west-1\)/);
      const json = JSON.parse((await p.exec('review', '--json')).text);
      assert.deepEqual([json.command, json.ok, json.exitCode, json.entries, json.unreachable.map((u: { region: string }) => u.region)], ['review', false, 2, [], ['eu-west-1']]);
    } finally {
      p.remove();
    }
  });
});
