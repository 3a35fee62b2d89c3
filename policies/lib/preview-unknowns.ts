import { UnknownValueError } from '@pulumi/policy';

/**
 * During `pulumi preview`, every value that depends on a resource the update creates (an ARN, a
 * name the provider picks, a string built with `apply` from those) reaches the pack as unknown, and
 * @pulumi/policy's unknown-checking proxy throws its UnknownValueError on reading one. Uncaught, that
 * throw turns the whole validation into one advisory "can't run during preview" and hides every
 * violation the rule could have found in the known settings. These helpers let a rule read through
 * the same proxy, check what is known, and only then hand the engine that advisory.
 */
export const UNKNOWN: unique symbol = Symbol('unknown during preview');
export type Maybe<T> = T | typeof UNKNOWN;

/** One read through the proxy: the value, or UNKNOWN when the engine sent it as unknown. */
export function read<T>(get: () => T): Maybe<T> {
  try {
    return get();
  } catch (err) {
    if (err instanceof UnknownValueError) return UNKNOWN;
    throw err;
  }
}

/** What one validation could not check at preview, named by property path, reported last. */
export class Unchecked {
  private readonly paths: string[] = [];
  private first?: Error;

  /** Like {@link read}, remembering `path` when the value is unknown. */
  read<T>(path: string, get: () => T): Maybe<T> {
    try {
      return get();
    } catch (err) {
      if (!(err instanceof UnknownValueError)) throw err;
      this.first ??= err as Error;
      this.paths.push(path);
      return UNKNOWN;
    }
  }

  /** The known items of a value that may be one item or a list (any item possibly unknown), with their paths. */
  items<T>(path: string, get: () => T | T[] | undefined): { value: T; path: string }[] {
    const value = this.read(path, get);
    if (value === UNKNOWN || value === undefined) return [];
    if (!Array.isArray(value)) return [{ value, path }];
    const known: { value: T; path: string }[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = this.read(`${path}[${i}]`, () => value[i] as T);
      if (item !== UNKNOWN) known.push({ value: item, path: `${path}[${i}]` });
    }
    return known;
  }

  /** Paths read so far that were unknown. */
  get unknownPaths(): readonly string[] {
    return this.paths;
  }

  /**
   * Call after every check of known values. If anything was unknown, throws the proxy's own
   * UnknownValueError, so the engine reports one advisory (never a pass, never a mandatory
   * violation) whose message names what waits for `pulumi up`.
   */
  finish(explanation?: string): void {
    if (!this.first) return;
    const what = this.paths.join(', ');
    this.first.message = explanation ?? `${what} ${this.paths.length === 1 ? 'is' : 'are'} unknown until the resources ${this.paths.length === 1 ? 'it depends' : 'they depend'} on exist; pulumi up checks ${this.paths.length === 1 ? 'it' : 'them'}`;
    throw this.first;
  }
}
