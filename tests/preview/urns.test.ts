import { strict as assert } from 'node:assert';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { setRealisticMocks, settled } from '../../preview/mocks';
import { aliasUrns, urnOf } from '../../preview/urns';

const valueOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

class Inner extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super('fixture:index:Inner', name, {}, opts);
    this.queue = new aws.sqs.Queue(`${name}-q`, {}, { parent: this, protect: true });
    this.registerOutputs({});
  }
}
class Outer extends pulumi.ComponentResource {
  readonly inner: Inner;
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super('fixture:index:Outer', name, {}, opts);
    this.inner = new Inner(`${name}-inner`, { parent: this, retainOnDelete: true });
    this.registerOutputs({});
  }
}

describe('resource identity in the offline preview (URNs and aliases, as the engine computes them)', () => {
  it('gives every resource the URN of its full parent type chain, the one the program sees and the SDK computes', async () => {
    const recorded = setRealisticMocks('proj', 'stk', 'us-east-1');
    const outer = new Outer('o');
    await settled();
    const expected = 'urn:pulumi:stk::proj::fixture:index:Outer$fixture:index:Inner$aws:sqs/queue:Queue::o-inner-q';
    assert.equal(await valueOf(outer.inner.queue.urn), expected);
    assert.equal(await valueOf(pulumi.createUrn('o-inner-q', 'aws:sqs/queue:Queue', outer.inner)), expected);
    const queue = recorded.find((r) => r.type === 'aws:sqs/queue:Queue')!;
    assert.equal(queue.urn, expected);
    assert.equal(queue.parent, 'urn:pulumi:stk::proj::fixture:index:Outer$fixture:index:Inner::o-inner');
    // protect set on the queue itself, retainOnDelete inherited from its parent as the engine does.
    assert.deepEqual([queue.protect, queue.retainOnDelete], [true, true]);
    assert.equal(urnOf('stk', 'proj', 'aws:sqs/queue:Queue', 'o-inner-q', queue.parent), expected);
  });

  it('expands aliases as the engine does: own specs, then those inherited from an aliased parent with its old name prefix', () => {
    const newParent = 'urn:pulumi:s::p::fixture:index:Group::purchases';
    const oldParent = 'urn:pulumi:s::p::fixture:index:Group::orders';
    const ctx = { stack: 's', project: 'p', parentMatchedAlias: (urn: string) => (urn === newParent ? oldParent : undefined) };
    assert.deepEqual(aliasUrns(ctx, 'aws:sqs/queue:Queue', 'new', undefined, [{ name: 'old' }]), ['urn:pulumi:s::p::aws:sqs/queue:Queue::old']);
    assert.deepEqual(aliasUrns(ctx, 'aws:sqs/queue:Queue', 'q', undefined, [{ urn: 'urn:pulumi:s::p::x:y:Z::q' }]), ['urn:pulumi:s::p::x:y:Z::q']);
    assert.deepEqual(aliasUrns(ctx, 'aws:sqs/queue:Queue', 'q', newParent, [{ noParent: true }]), [
      'urn:pulumi:s::p::aws:sqs/queue:Queue::q',
      'urn:pulumi:s::p::fixture:index:Group$aws:sqs/queue:Queue::q',
    ]);
    // A child named after its renamed parent is found under the parent's old name.
    assert.deepEqual(aliasUrns(ctx, 'aws:dynamodb/table:Table', 'purchases-table', newParent, []), ['urn:pulumi:s::p::fixture:index:Group$aws:dynamodb/table:Table::orders-table']);
    assert.deepEqual(aliasUrns(ctx, 'aws:dynamodb/table:Table', 't', undefined, []), []);
  });
});
