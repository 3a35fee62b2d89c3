import { strict as assert } from 'node:assert';
import { CreateTableCommand, DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { countSync } from '../../cli/reconcile';
import { stateTableName } from '../../config/names';
import { syncItem } from '../../handlers/repair';
import { makeHandler } from '../../handlers/replicate';
import { ensureStateTable } from '../../local/tables';
import { client, StreamTap } from '../support/ddb';
import { createTable, load, project } from './support';
import { sdkDynamo } from '../../handlers/dynamo-sdk';
import type { Dynamo } from '../../handlers/dynamo';

describe('ddb-replicator verify and reconcile (DynamoDB Local)', function () {
  this.timeout(60_000);

  it('verify reports each kind of drift by key, never by value, and exits 1 until reconcile repairs it', async () => {
    const p = project();
    try {
      await createTable('us-east-1', p.table, true);
      await createTable('eu-west-1', p.table, true);
      await load('us-east-1', p.table, 50);
      await load('eu-west-1', p.table, 50);
      assert.deepEqual(await p.run('verify'), { code: 0, text: `${p.table}: source 50 items\n  eu-west-1: 50 items, 0 missing, 0 extra, 0 different -> in sync` });

      const replica = client('eu-west-1');
      await replica.send(new DeleteItemCommand({ TableName: p.table, Key: { pk: { S: 'item-00001' } } }));
      await replica.send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: 'stray' }, value: { S: 'secret-value' } } }));
      await replica.send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: 'item-00002' }, value: { S: 'secret-value' }, n: { N: '2' } } }));
      const drift = await p.run('verify');
      assert.equal(drift.code, 1);
      assert.match(drift.text, /eu-west-1: 50 items, 1 missing, 1 extra, 1 different -> OUT OF SYNC/);
      assert.match(drift.text, /missing: \{"pk":\{"S":"item-00001"\}\}/);
      assert.match(drift.text, /extra: \{"pk":\{"S":"stray"\}\}/);
      assert.match(drift.text, /different: \{"pk":\{"S":"item-00002"\}\}/);
      assert.ok(!drift.text.includes('secret-value'));
      const json = JSON.parse((await p.run('verify', '--json', '--region', 'eu-west-1')).text);
      assert.deepEqual(json, {
        command: 'verify',
        table: p.table,
        ok: false,
        exitCode: 1,
        inSync: false,
        regions: [
          {
            region: 'eu-west-1',
            sourceItems: 50,
            replicaItems: 50,
            inSync: false,
            missing: 1,
            extra: 1,
            different: 1,
            sample: { missing: [{ pk: { S: 'item-00001' } }], extra: [{ pk: { S: 'stray' } }], different: [{ pk: { S: 'item-00002' } }] },
          },
        ],
        failures: [],
      });

      const repaired = await p.run('reconcile', '--json');
      assert.equal(repaired.code, 0, repaired.text);
      assert.deepEqual(JSON.parse(repaired.text), { command: 'reconcile', table: p.table, ok: true, exitCode: 0, regions: [{ region: 'eu-west-1', repaired: 3, skipped: 0, undone: 0, failed: 0 }], failures: [] });
      assert.equal((await p.run('verify')).code, 0);
    } finally {
      p.remove();
    }
  });

  it('reconcile lists each item it could not repair by key (DynamoDB JSON) and error, never values, and exits 1', async () => {
    const p = project();
    try {
      await createTable('us-east-1', p.table, true);
      // The replica's index wants g as a number: writing the source's string g into it fails.
      await client('eu-west-1').send(
        new CreateTableCommand({
          TableName: p.table,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'g', AttributeType: 'N' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          GlobalSecondaryIndexes: [{ IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await client('us-east-1').send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: 'fine' }, v: { S: 'secret-value' } } }));
      await client('us-east-1').send(new PutItemCommand({ TableName: p.table, Item: { pk: { S: 'bad' }, g: { S: 'secret-value' } } }));

      const text = await p.run('reconcile');
      assert.equal(text.code, 1, text.text);
      assert.match(text.text, /eu-west-1: repaired 1, left to live replication 0, deletions kept 0, failed 1\nfailed items \(key, error\):\n  eu-west-1 \{"pk":\{"S":"bad"\}\}: ValidationException: /);
      assert.ok(!text.text.includes('secret-value'));

      const json = JSON.parse((await p.run('reconcile', '--json')).text);
      assert.deepEqual([json.ok, json.exitCode, json.failures.map((f: { region: string; key: unknown }) => [f.region, f.key])], [false, 1, [['eu-west-1', { pk: { S: 'bad' } }]]]);
      assert.match(json.failures[0].error, /^ValidationException: /);
    } finally {
      p.remove();
    }
  });

  for (const raceAt of ['between the replica read and the source read', 'between the source read and the write'] as const) {
    it(`a repair never writes older data above a change replication applied ${raceAt}`, async () => {
      const p = project();
      try {
        const stream = (await createTable('us-east-1', p.table, true))!;
        await createTable('eu-west-1', p.table, true);
        await ensureStateTable(client('us-east-1'), p.table);
        await ensureStateTable(client('eu-west-1'), p.table);
        const source = client('us-east-1');
        const replica = client('eu-west-1');
        const tap = new StreamTap(stream);
        const handler = makeHandler(
          { targets: [{ region: 'eu-west-1', tableName: p.table }], fenceCacheMs: 10_000, state: { region: 'us-east-1', tableName: stateTableName(p.table) }, conflictPolicy: 'source-wins', replicateTtlDeletes: true, maxConcurrency: 4 },
          { log: () => undefined },
        );
        const key = { pk: { S: 'k' } };
        await source.send(new PutItemCommand({ TableName: p.table, Item: { ...key, v: { N: '1' } } }));
        await handler(await tap.event());
        await replica.send(new UpdateItemCommand({ TableName: p.table, Key: key, UpdateExpression: 'SET drift = :d', ExpressionAttributeValues: { ':d': { S: 'x' } } }));
        // The source changes to v2 and replication applies it, at the chosen moment of the repair.
        const change = async () => {
          await source.send(new PutItemCommand({ TableName: p.table, Item: { ...key, v: { N: '2' } } }));
          await handler(await tap.event());
        };
        let sourceReads = 0;
        const readSource = async () => {
          if (raceAt === 'between the replica read and the source read' && sourceReads === 0) await change();
          sourceReads++;
          const item = (await source.send(new GetItemCommand({ TableName: p.table, Key: key, ConsistentRead: true }))).Item;
          if (raceAt === 'between the source read and the write' && sourceReads === 1) await change();
          return item;
        };
        const result = await syncItem({ mode: 'repair', replica: sdkDynamo(replica), target: { region: 'eu-west-1', tableName: p.table }, keys: key, readSource, generation: 1, rules: { nowSeconds: 0 } });
        assert.equal(result.outcome.status, 'skipped', 'left to replication');
        const after = (await replica.send(new GetItemCommand({ TableName: p.table, Key: key, ConsistentRead: true }))).Item;
        assert.equal(after?.v?.N, '2');
        assert.equal(after?.drift, undefined);
        tap.close();
      } finally {
        p.remove();
      }
    });
  }

  it('does not bring back an item deleted at the source while the repair ran, and reports an undo that failed', async () => {
    const p = project();
    try {
      await createTable('us-east-1', p.table, true);
      await createTable('eu-west-1', p.table, true);
      const key = { pk: { S: 'gone' } };
      const scanned = { ...key, v: { N: '1' } };
      const args = {
        mode: 'backfill' as const,
        target: { region: 'eu-west-1', tableName: p.table },
        keys: key,
        scanned,
        readSource: async () => undefined, // deleted at the source (and the REMOVE replicated) meanwhile
        generation: 1,
        rules: { nowSeconds: 0 },
      };
      const undone = await syncItem({ ...args, replica: sdkDynamo(client('eu-west-1')) });
      assert.deepEqual([undone.outcome.status, undone.undo], ['applied', 'undone']);
      assert.equal((await client('eu-west-1').send(new GetItemCommand({ TableName: p.table, Key: key, ConsistentRead: true }))).Item, undefined);

      // The undo is throttled: the item stays, and the result says so.
      const replica = sdkDynamo(client('eu-west-1'));
      const throttledDeletes: Dynamo = {
        call: async (operation, input) => {
          if (operation === 'DeleteItem') throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException' });
          return replica.call(operation, input);
        },
      };
      const failed = await syncItem({ ...args, replica: throttledDeletes });
      assert.deepEqual([failed.outcome.status, failed.undo], ['applied', 'failed']);
      const counts = { repaired: 0, skipped: 0, undone: 0, failed: 0 };
      countSync(counts, failed);
      assert.deepEqual(counts, { repaired: 0, skipped: 0, undone: 0, failed: 1 });
    } finally {
      p.remove();
    }
  });

  it('names the fix for bad flags and unknown commands', async () => {
    const p = project();
    try {
      await assert.rejects(p.run('verify', '--segments', '0'), /--segments is "0": use a whole number from 1 to 1000/);
      await assert.rejects(p.run('verify', '--region', 'ap-south-1'), /--region ap-south-1 is not a replica region of .*: use one of eu-west-1/);
      await assert.rejects(p.run('verify', '--to', 'eu-west-1'), /^Error: ddb-replicator verify: unknown option '--to': see ddb-replicator verify --help$/);
      await assert.rejects(p.run('backfill'), /backfill needs --to REGION: one of eu-west-1/);
      await assert.rejects(p.run('backfill', '--to', 'us-east-1'), /--to us-east-1: us-east-1 is the primary of .*; use a replica region: eu-west-1$/);
      await assert.rejects(p.run('frobnicate'), /^Error: ddb-replicator: unknown command 'frobnicate': see ddb-replicator --help$/);
      assert.match((await p.run('backfill', '--help')).text, /Usage: ddb-replicator backfill --to REGION/);
    } finally {
      p.remove();
    }
  });
});
