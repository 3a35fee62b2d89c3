import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type * as grpcTypes from '@grpc/grpc-js';
import * as pulumi from '@pulumi/pulumi';
import { ComponentProvider } from '@pulumi/pulumi/provider/experimental';
import type * as providerProto from '@pulumi/pulumi/proto/provider_pb';
import { ReplicatedTable } from '../../provider';
import { outputsFor } from '../../preview/mocks';
import { FakeEngine, startFakeEngine } from '../support/fake-engine';
import { ofType, settled, useMocks } from '../support/pulumi-mocks';

const ROOT = resolve(__dirname, '../..');
const PLUGIN_DIR = join(ROOT, 'provider');
const TYPE = 'ddb-replicator:index:ReplicatedTable';
// The SDK's own generated stubs, with the grpc-js copy they were generated against.
const sdkRequire = createRequire(require.resolve('@pulumi/pulumi/package.json'));
const grpc = sdkRequire('@grpc/grpc-js') as typeof grpcTypes;
const pb = sdkRequire('./proto/provider_pb') as typeof providerProto;
const { ResourceProviderClient } = sdkRequire('./proto/provider_grpc_pb') as { ResourceProviderClient: grpcTypes.ServiceClientConstructor };
const { Struct } = sdkRequire('google-protobuf/google/protobuf/struct_pb') as typeof import('google-protobuf/google/protobuf/struct_pb');
/** How the engine marks a secret value on the wire. */
const SECRET = { '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270' };

type Client = {
  getSchema(req: providerProto.GetSchemaRequest, cb: (err: Error | null, res: providerProto.GetSchemaResponse) => void): void;
  construct(req: providerProto.ConstructRequest, cb: (err: Error | null, res: providerProto.ConstructResponse) => void): void;
  close(): void;
};
const call = <Req, Res>(fn: (req: Req, cb: (err: Error | null, res: Res) => void) => void, req: Req) => new Promise<Res>((ok, fail) => fn(req, (err, res) => (err ? fail(err) : ok(res))));

interface Property {
  type?: string;
  $ref?: string;
  plain?: boolean;
  optional?: boolean;
  description?: string;
  items?: Property;
  additionalProperties?: Property;
}
interface Schema {
  name: string;
  version: string;
  resources: Record<string, { isComponent: boolean; description: string; inputProperties: Record<string, Property>; requiredInputs: string[]; properties: Record<string, Property> }>;
  types: Record<string, { type: string; enum?: { name: string; value: string }[]; properties?: Record<string, Property>; required?: string[] }>;
}

/** Starts the provider as the Pulumi CLI does for a nodejs plugin: the SDK's run-plugin on the plugin folder, with the engine's address. */
async function startPlugin(engineAddress: string): Promise<{ address: string; stop: () => Promise<void> }> {
  const { NODE_OPTIONS: _, ...env } = process.env;
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/@pulumi/pulumi/cmd/run-plugin/index.js'), PLUGIN_DIR, engineAddress], { cwd: PLUGIN_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  // Generous: ts-node type-checks the component's sources before the plugin serves.
  const port = await until(child, () => /^(\d{2,5})\r?\n/.exec(stdout)?.[1], 240_000, () => stderr);
  return { address: `127.0.0.1:${port}`, stop };
}

function until<T>(child: ChildProcess, found: () => T | undefined, ms: number, stderr: () => string): Promise<T> {
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`the plugin did not print its port within ${ms / 1000} s:\n${stderr()}`)), ms);
    const check = () => {
      const value = found();
      if (value !== undefined) {
        clearTimeout(timer);
        resolvePort(value);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the plugin exited (${code}) before serving:\n${stderr()}`));
    });
  });
}

describe('ReplicatedTable for other Pulumi languages (provider/, a source-based component package)', function () {
  this.timeout(300_000);
  let schema: Schema;
  let engine: FakeEngine;
  let plugin: { address: string; stop: () => Promise<void> };
  let client: Client;

  before(async () => {
    // The engine a Python or YAML program's `pulumi preview` would run: the plugin registers the component's children with it.
    engine = await startFakeEngine({ project: 'consumer', stack: 'dev', dryRun: true, defaultRegion: 'us-east-1', outputsFor, invoke: (token) => { throw new Error(`no invoke expected: ${token}`); } });
    plugin = await startPlugin(engine.address);
    client = new ResourceProviderClient(plugin.address, grpc.credentials.createInsecure()) as unknown as Client;
    schema = JSON.parse((await call(client.getSchema.bind(client), new pb.GetSchemaRequest())).getSchema()) as Schema;
  });
  after(async () => {
    client?.close();
    await plugin?.stop();
    await engine?.stop();
  });

  it("serves, through Pulumi's plugin runner, a schema inferred from the TypeScript: the package, the component and its outputs", () => {
    assert.equal(schema.name, 'ddb-replicator');
    assert.equal(schema.version, (require('../../package.json') as { version: string }).version);
    assert.deepEqual(Object.keys(schema.resources), [TYPE], 'only the ReplicatedTable: its parts stay TypeScript-only');
    const component = schema.resources[TYPE]!;
    assert.equal(component.isComponent, true);
    assert.match(component.description, /^A DynamoDB table in every region/);
    assert.deepEqual(component.requiredInputs.sort(), ['partitionKey', 'primaryRegion', 'replicaRegions']);
    assert.deepEqual(Object.keys(component.properties).sort(), ['alarmNames', 'alarmTopicArns', 'dlqUrls', 'functionNames', 'streamArn', 'tableArns']);
    assert.deepEqual(component.properties.tableArns, { type: 'object', additionalProperties: { type: 'string' }, description: 'Table ARN per region.' });
  });

  it('documents every input, takes tags and alarmEmail as Inputs, and the settings that decide which resources exist as plain values', () => {
    const inputs = schema.resources[TYPE]!.inputProperties;
    for (const [name, p] of Object.entries(inputs)) assert.ok(p.description && p.description.length > 10, `${name} is documented`);
    for (const name of ['tags', 'alarmEmail']) assert.equal(inputs[name]!.plain, undefined, `${name} may come from another resource`);
    for (const name of ['partitionKey', 'primaryRegion', 'replicaRegions', 'globalSecondaryIndexes', 'billingMode', 'stream']) assert.equal(inputs[name]!.plain, true, `${name} is known when the component is built`);
    assert.deepEqual(inputs.tags, { type: 'object', additionalProperties: { type: 'string' }, optional: true, description: 'Tags of every resource, at most 50; default none.' });
    assert.match(inputs.stream!.description!, /default/);
    assert.deepEqual(inputs.replicaRegions!.items, { type: 'string', plain: true });
  });

  it('gives enums their values and nested settings their own documented types', () => {
    const enumValues = (name: string) => schema.types[`ddb-replicator:index:${name}`]!.enum!.map((e) => e.value);
    assert.deepEqual(enumValues('KeyType'), ['S', 'N', 'B']);
    assert.deepEqual(enumValues('ConflictPolicy'), ['source-wins', 'keep-replica']);
    assert.deepEqual(enumValues('BillingMode'), ['PAY_PER_REQUEST', 'PROVISIONED']);
    assert.deepEqual(enumValues('ProjectionType'), ['ALL', 'KEYS_ONLY', 'INCLUDE']);
    const key = schema.types['ddb-replicator:index:TableKey']!;
    assert.deepEqual(key.required?.sort(), ['name', 'type']);
    assert.equal(key.properties!.type!.$ref, '#/types/ddb-replicator:index:KeyType');
    const stream = schema.types['ddb-replicator:index:StreamOptions']!;
    assert.deepEqual(Object.keys(stream.properties!).sort(), ['batchSize', 'batchingWindowSeconds', 'maximumRecordAgeSeconds', 'maximumRetryAttempts', 'parallelizationFactor']);
    for (const [name, p] of Object.entries(stream.properties!)) assert.match(p.description!, /default \d+/, `stream.${name} states its default`);
  });

  it("constructs through the provider protocol as another language's program asks for it: the engine's inputs and options, a secret tag, protect unset", async () => {
    const stackUrn = 'urn:pulumi:dev::consumer::pulumi:pulumi:Stack::consumer-dev';
    const req = new pb.ConstructRequest()
      .setProject('consumer')
      .setStack('dev')
      .setOrganization('organization')
      .setDryrun(true)
      .setParallel(16)
      .setMonitorendpoint(engine.address)
      .setType(TYPE)
      .setName('payments')
      .setParent(stackUrn)
      .setInputs(Struct.fromJavaScript({ partitionKey: { name: 'id', type: 'S' }, primaryRegion: 'us-east-1', replicaRegions: ['eu-west-1'], tags: { team: 'payments', owner: { ...SECRET, value: 'alice' } } } as never));
    const res = await call(client.construct.bind(client), req);
    assert.equal(res.getUrn(), 'urn:pulumi:dev::consumer::ddb-replicator:index:ReplicatedTable::payments');
    assert.deepEqual(engine.unanswered, []);
    const tables = engine.registrations.filter((r) => r.type === 'aws:dynamodb/table:Table' && r.name.endsWith('-table'));
    assert.deepEqual(tables.map((t) => [t.inputs.region, t.protect]).sort(), [['eu-west-1', true], ['us-east-1', true]], 'protected: deletionProtection defaults on, whatever the request says of protect');
    for (const t of tables) {
      // A secret inside a top-level input makes the engine send the whole input as one secret Output.
      const wire = t.inputs.tags as Record<string, unknown>;
      assert.equal(wire['4dabf18193072939515e22adb298388d'], SECRET['4dabf18193072939515e22adb298388d'], 'the tags stay secret');
      assert.deepEqual(wire.value, { team: 'payments', owner: 'alice', 'ddb-replicator:table': 'payments' }, 'known at preview, with the group tag');
    }
    assert.deepEqual(Object.keys(res.getState()!.toJavaScript()).sort(), Object.keys(schema.resources[TYPE]!.properties).sort());
  });

  it('answers a bad Construct with the one-line message a TypeScript program gets', async () => {
    const req = new pb.ConstructRequest()
      .setProject('consumer')
      .setStack('dev')
      .setDryrun(true)
      .setMonitorendpoint(engine.address)
      .setType(TYPE)
      .setName('payments')
      .setInputs(Struct.fromJavaScript({ partitionKey: { name: 'id', type: 'S' }, primaryRegion: 'us-east-1', replicaRegions: ['us-east-1'] } as never));
    await assert.rejects(call(client.construct.bind(client), req), /invalid ReplicatedTable payments: replicaRegions\[0\] is "us-east-1": is the primary region; a replica must be in another region/);
  });

  describe('constructs the component under mocks from inputs shaped by the schema, as a Python or YAML program sends them', () => {
    const provider = () => new ComponentProvider({ name: 'ddb-replicator', dirname: PLUGIN_DIR, components: [ReplicatedTable] });
    // Plain JSON values, as the engine hands a Construct request's inputs to the provider; tags from another resource arrive as an Output.
    const inputs = () => ({
      partitionKey: { name: 'id', type: 'S' },
      primaryRegion: 'us-east-1',
      replicaRegions: ['eu-west-1'],
      stream: { batchSize: 200 },
      tags: pulumi.output({ team: 'payments' }),
    });

    it('uses only inputs the schema declares, and returns the outputs the schema promises', async () => {
      const given = inputs();
      const declared = schema.resources[TYPE]!.inputProperties;
      for (const key of Object.keys(given)) assert.ok(declared[key], `${key} is a schema input`);
      const recorded = useMocks();
      const result = await provider().construct('payments', TYPE, given, {});
      await settled();
      const urn = await new Promise<string>((ok) => pulumi.output(result.urn).apply(ok));
      assert.match(urn, /::ddb-replicator:index:ReplicatedTable::payments$/);
      assert.deepEqual(Object.keys(result.state).sort(), Object.keys(schema.resources[TYPE]!.properties).sort());
      const tables = ofType(recorded, 'aws:dynamodb/table:Table').filter((t) => t.name.endsWith('-table'));
      assert.deepEqual(tables.map((t) => [t.inputs.name, t.inputs.region, t.inputs.tags.team]).sort(), [
        ['payments', 'eu-west-1', 'payments'],
        ['payments', 'us-east-1', 'payments'],
      ]);
      assert.ok(ofType(recorded, 'aws:lambda/eventSourceMapping:EventSourceMapping').every((m) => m.inputs.batchSize === 200));
    });

    it('refuses bad inputs with the same one-line message a TypeScript program gets', async () => {
      useMocks();
      await assert.rejects(provider().construct('payments', TYPE, { ...inputs(), replicaRegions: ['us-east-1'] }, {}), /^Error: invalid ReplicatedTable payments: replicaRegions\[0\] is "us-east-1": is the primary region; a replica must be in another region$/);
    });
  });
});
