const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * One spelling per DynamoDB number: `7`, `7.0`, `7.00` and `7E0` are the same number, and so are
 * `0.5`, `.50` and `5E-1`. DynamoDB keeps what UpdateItem wrote but normalises what PutItem writes,
 * so comparing spellings would see differences where there are none. The form is the significant
 * digits without leading or trailing zeros, then the exponent of the last digit: `7e0`, `5e-1`.
 */
export function canonicalNumber(text: string): string {
  const m = NUMBER.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new TypeError(`not a DynamoDB number: ${JSON.stringify(text)}`);
  const [, sign, whole = '', fraction = '', exponent = '0'] = m;
  let digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  let exp = BigInt(exponent) - BigInt(fraction.length);
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exp += BigInt(trailing);
  return `${sign === '-' ? '-' : ''}${digits}e${exp}`;
}
