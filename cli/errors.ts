/** Exit codes of every command (README "Exit codes"). */
export const EXIT = { ok: 0, found: 1, problem: 2 } as const;

/** An expected problem with how the command was run: its message names the problem and the fix. */
export class CliError extends Error {
  override name = 'CliError';
}

/** What the endpoint flags said, so an unreachable endpoint can be named. */
export interface ErrorHints {
  command?: string;
  table?: string;
  endpoint?: string;
  sqsEndpoint?: string;
  lambdaEndpoint?: string;
}

export interface Classified {
  /** One line: the problem and the fix. */
  readonly message: string;
  readonly exitCode: number;
  /** False for a bug or an AWS answer we do not know: the line says to rerun with DEBUG=1. */
  readonly expected: boolean;
}

const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT']);
const CREDENTIALS = new Set(['CredentialsProviderError', 'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'ExpiredTokenException', 'ExpiredToken', 'SignatureDoesNotMatch']);
const oneLine = (s: string) => s.split('\n')[0]!.trim().replace(/[:.]$/, '');

/** Sorts any error into the one line a command prints and its exit code. */
export function classify(err: unknown, hints: ErrorHints = {}): Classified {
  const e = (err ?? {}) as Error & { code?: string; exitCode?: number; problems?: string[]; region?: string; cause?: { code?: string }; $metadata?: unknown };
  const problem = (message: string): Classified => ({ message: oneLine(message), exitCode: EXIT.problem, expected: true });
  if (e instanceof CliError) return problem(e.message);
  if (e.name === 'StackConfigError' && e.problems) return problem(e.problems.length === 1 ? e.problems[0]! : `invalid stack configuration: ${e.problems.map(oneLine).join('; ')}`);
  if (e.name === 'CommanderError' || e.code?.startsWith('commander.')) {
    const why = oneLine(e.message.replace(/^error: /, ''));
    return problem(`${why}: see ddb-replicator ${hints.command ? `${hints.command} ` : ''}--help`);
  }
  const net = [e.code, e.cause?.code].find((c) => c && NETWORK.has(c));
  if (net || e.name === 'TimeoutError') {
    const where = [hints.endpoint, hints.sqsEndpoint, hints.lambdaEndpoint].filter(Boolean).join(' or ');
    const fix = where ? `start it (npm start prints its endpoints) or fix the endpoint flags` : 'check the network and the AWS region, or use --endpoint URL for a local run';
    return problem(`cannot reach ${where || 'AWS'}${e.region ? ` (region ${e.region})` : ''}: ${net ?? e.name}; ${fix}`);
  }
  if (CREDENTIALS.has(e.name)) {
    return problem(`no usable AWS credentials (${e.name}): set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --endpoint URL for DynamoDB Local`);
  }
  if (e.name === 'AccessDeniedException' || e.name === 'AccessDenied') {
    return problem(`AWS denied a request (${e.name}${e.region ? `, region ${e.region}` : ''}): ${oneLine(String(e.message ?? ''))}; run with credentials allowed to operate the stack's tables, queues and functions`);
  }
  if (e.name === 'ResourceNotFoundException') {
    return problem(`${hints.table ? `table ${hints.table}` : 'a table of the stack'} does not exist${e.region ? ` in ${e.region}` : ''}${hints.endpoint ? ` at ${hints.endpoint}` : ''}: deploy the stack first (pulumi up, or npm start locally)`);
  }
  return { message: `unexpected error: ${e.name ?? 'Error'}: ${oneLine(String(e.message ?? err))}; rerun with DEBUG=1 for details`, exitCode: EXIT.problem, expected: false };
}
