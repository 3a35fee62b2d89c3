import { keyJson, SdkItem, type EventItem } from '../handlers/attribute-values';

/** One item a command could not handle: its key (DynamoDB JSON) and why, never its values. */
export interface Failure {
  readonly region: string;
  readonly key: EventItem;
  readonly error: string;
}

/** At most this many are kept; the commands' counts give the total. */
export const MAX_FAILURES = 1000;

export class Failures {
  readonly list: Failure[] = [];

  add(region: string, keys: SdkItem | EventItem, error: string): void {
    if (this.list.length < MAX_FAILURES) this.list.push({ region, key: keyJson(keys), error });
  }
}
