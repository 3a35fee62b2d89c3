import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { canonicalNumber } from '../../handlers/numbers';

describe('canonicalNumber: one spelling per DynamoDB number', () => {
  const same: string[][] = [
    ['7', '7.0', '7.00', '7E0', '+7', '0007', '70e-1', '0.7E1'],
    ['0.5', '.50', '5E-1', '0.500e0', '50E-2'],
    ['0', '-0', '+0', '0.000', '0E99', '-0.0e-5'],
    ['-120', '-1.2E2', '-12e1', '-120.00'],
    ['1E125', '10E124', '0.1e126'],
    ['1E-130', '0.1E-129', '10e-131'],
    ['99999999999999999999999999999999999999', '9.9999999999999999999999999999999999999E37'],
  ];
  for (const group of same) {
    it(`spells ${group.join(', ')} alike`, () => {
      assert.deepEqual(new Set(group.map(canonicalNumber)).size, 1, group.map(canonicalNumber).join(' '));
    });
  }

  it('keeps different numbers apart: sign, magnitude, precision', () => {
    const different = ['1', '-1', '10', '0.1', '1.0000000000000000000000000000000000001', '1E125', '1E-130'];
    assert.equal(new Set(different.map(canonicalNumber)).size, different.length);
  });

  it('rejects what is not a number, naming it', () => {
    for (const bad of ['', '.', 'e5', '1e', 'abc', '1.2.3', 'NaN', 'Infinity', '--1']) {
      assert.throws(() => canonicalNumber(bad), (e: Error) => e.message === `not a DynamoDB number: ${JSON.stringify(bad)}`);
    }
  });

  it('agrees with JavaScript on the value for any integer and decimal spelling', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.nat(6), fc.nat(3), (n, shift, pad) => {
        // n * 10^-shift written as a decimal with `pad` trailing zeros, and in exponent form.
        const abs = String(Math.abs(n)).padStart(shift + 1, '0');
        const decimal = `${n < 0 ? '-' : ''}${shift ? `${abs.slice(0, -shift)}.${abs.slice(-shift)}` : abs}${shift ? '0'.repeat(pad) : ''}`;
        const scientific = `${n}E-${shift}`;
        assert.equal(canonicalNumber(decimal), canonicalNumber(scientific), `${decimal} vs ${scientific}`);
      }),
      { numRuns: 500 },
    );
  });
});
