import { strict as assert } from 'node:assert';
import { itemSize, numberSize, readUnits, valueSize, writeUnits } from '../../handlers/item-size';
import { RateLimiter } from '../../handlers/rate-limit';
import { METADATA_BYTES } from '../../handlers/contract';

// The rules of the DynamoDB developer guide, "Item sizes and formats": name bytes plus value bytes.
describe('item size, as DynamoDB meters it', () => {
  it('strings are UTF-8 bytes, attribute names included', () => {
    assert.equal(itemSize({ pk: { S: 'abc' } }), 2 + 3);
    assert.equal(itemSize({ 'é': { S: 'né€' } }), 2 + (1 + 2 + 3));
  });

  it('numbers take one byte per two significant digits plus one; leading and trailing zeroes do not count', () => {
    assert.equal(numberSize('7'), 2);
    assert.equal(numberSize('123'), 3);
    assert.equal(numberSize('1234'), 3);
    assert.equal(numberSize('1000'), 2);
    assert.equal(numberSize('0.0012300'), 3);
    assert.equal(numberSize('-12.5'), 3);
    assert.equal(numberSize('1.5E+30'), 2);
    assert.equal(numberSize('0'), 1);
    assert.equal(numberSize('9'.repeat(38)), 20);
  });

  it('a 900-byte binary counts its 900 raw bytes, in the SDK form and in base64 (DynamoDB JSON)', () => {
    const blob = Buffer.alloc(900, 7);
    assert.equal(itemSize({ pk: { S: 'newcomer-big' }, blob: { B: blob } }), 2 + 12 + 4 + 900);
    assert.equal(valueSize({ B: blob.toString('base64') }), 900);
    assert.equal(writeUnits(itemSize({ pk: { S: 'newcomer-big' }, blob: { B: blob } }) + METADATA_BYTES), 1, 'with replication metadata it still fits one write unit');
  });

  it('booleans and nulls are one byte', () => {
    assert.equal(itemSize({ ok: { BOOL: false }, n: { NULL: true } }), 2 + 1 + 1 + 1);
  });

  it('lists and maps take 3 bytes plus 1 per element; empty ones 3; map keys count', () => {
    assert.equal(itemSize({ l: { L: [] } }), 1 + 3);
    assert.equal(itemSize({ m: { M: {} } }), 1 + 3);
    assert.equal(itemSize({ l: { L: [{ S: 'a' }, { N: '12' }] } }), 1 + 3 + (1 + 1) + (1 + 2));
    assert.equal(itemSize({ m: { M: { ab: { S: 'c' }, d: { L: [{ BOOL: true }] } } } }), 1 + 3 + (1 + 2 + 1) + (1 + 1 + (3 + 1 + 1)));
  });

  it('sets are the sum of their members', () => {
    assert.equal(valueSize({ SS: ['a', 'bc'] }), 3);
    assert.equal(valueSize({ NS: ['1', '100', '12345'] }), 2 + 2 + 4);
    assert.equal(valueSize({ BS: [new Uint8Array(5), new Uint8Array(3)] }) + valueSize({ BS: [Buffer.alloc(4).toString('base64')] }), 12);
  });

  it('write units per started 1 KB, read units per started 4 KB (at least one)', () => {
    assert.deepEqual([0, 1, 1024, 1025, 400 * 1024].map(writeUnits), [1, 1, 1, 2, 400]);
    assert.deepEqual([0, 4096, 4097, 1_000_000].map(readUnits), [1, 1, 2, 245]);
  });

  it('rejects a value it cannot read', () => {
    assert.throws(() => valueSize({ X: 1 } as never), /unsupported attribute value with keys \[X\]/);
  });
});

describe('rate limiter', () => {
  it('paces units to the rate and stops waiting when its signal aborts', async () => {
    const limiter = new RateLimiter(10);
    const started = Date.now();
    await limiter.take(10); // the full first second's budget
    const controller = new AbortController();
    const waiting = limiter.take(10, controller.signal);
    controller.abort();
    await waiting;
    assert.ok(Date.now() - started < 500, 'an aborted wait returns at once');
    await new RateLimiter(undefined).take(1e9);
  });
});
