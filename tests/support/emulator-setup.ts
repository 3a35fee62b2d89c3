import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { EmulatorOptions, EventSourceMappingEmulator } from '../../local/esm/emulator';
import { MemoryDestination } from '../../local/esm/on-failure';
import { createRegionalTable } from '../../local/tables';
import { client, tableSpec } from './ddb';

export const REGION = 'us-east-1';
export const seqOf = (e: DynamoDBStreamEvent) => e.Records.map((r) => r.dynamodb!.SequenceNumber!);
export const keysOf = (events: DynamoDBStreamEvent[]) => events.flatMap((e) => e.Records.map((r) => r.dynamodb!.Keys!.pk!.S!));

/** Run after each test (afterEach(runCleanups)): stops emulators and watchers the test started. */
export const cleanups: (() => Promise<void>)[] = [];
export async function runCleanups(): Promise<void> {
  await Promise.all(cleanups.splice(0).map((c) => c()));
}

/** An emulator over `streamArn` (not started) with fast polls, its events, on-failure messages and logs. */
export function mapping(streamArn: string, fn: (event: DynamoDBStreamEvent, call: number) => unknown, options: Partial<EmulatorOptions> = {}) {
  const events: DynamoDBStreamEvent[] = [];
  const onFailure = new MemoryDestination();
  const streams = new DynamoDBStreamsClient({ region: REGION });
  const logs: Record<string, unknown>[] = [];
  const emulator = new EventSourceMappingEmulator({
    streamArn,
    region: REGION,
    streams,
    onFailure,
    pollIntervalMs: 20,
    discoveryIntervalMs: 100,
    retryDelayMs: 5,
    log: (l) => logs.push(l),
    invoke: async (event) => {
      events.push(event);
      return fn(event, events.length);
    },
    ...options,
  });
  cleanups.push(async () => {
    await emulator.stop();
    streams.destroy();
  });
  return {
    events,
    onFailure,
    emulator,
    logs,
    run: async () => {
      emulator.start();
      await emulator.waitForIdle();
    },
  };
}

/** A stream with `n` records (items i0..i(n-1)) and an emulator over it whose function is `fn`. */
export async function setup(n: number, fn: (event: DynamoDBStreamEvent, call: number) => unknown, options: Partial<EmulatorOptions> = {}) {
  const spec = tableSpec();
  const streamArn = await createRegionalTable(client(REGION), spec);
  /** Writes items i<from>..i<to - 1>; a new `round` changes them (an unchanged put makes no record). */
  const write = async (from: number, to: number, round = 0) => {
    for (let i = from; i < to; i++) {
      await client(REGION).send(new PutItemCommand({ TableName: spec.name, Item: { pk: { S: `i${i}` }, b: { B: new Uint8Array([i % 256]) }, n: { N: String(i + round * 1000) } } }));
    }
  };
  await write(0, n);
  return { streamArn, tableName: spec.name, write, ...mapping(streamArn, fn, options) };
}

/** Waits for a condition, checking every 20 ms; fails after `timeoutMs` (generous: this is not a timing assertion). */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
