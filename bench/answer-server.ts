import { startFaultProxy } from '../local/fault-proxy';

/**
 * Run as its own process: a DynamoDB stand-in that answers every write with `{}` after `latencyMs`
 * (the remote region of the Lambda-shaped run), so none of its work is counted as the client's.
 * Prints its endpoint on the first line of stdout.
 */
const latencyMs = Number(process.argv[2] ?? 0);
const target = process.argv[3] ?? 'http://127.0.0.1:9';
startFaultProxy({ target, latencyMs, answerLocally: ['PutItem', 'DeleteItem'] }).then((p) => console.log(p.endpoint));
