// Request parameters as Django's QueryDict holds them: ordered, repeatable keys.
// MAAS reads single values with QueryDict.get (the LAST value of a repeated key)
// and lists with getlist, so both are offered here.

export class FormParams {
  private readonly pairs: Array<[string, string]> = [];

  static fromPairs(pairs: Iterable<readonly [string, string]>): FormParams {
    const params = new FormParams();
    for (const [k, v] of pairs) params.append(k, v);
    return params;
  }

  /** Parses application/x-www-form-urlencoded text ('+' is a space, as in Django). */
  static fromUrlEncoded(text: string): FormParams {
    return FormParams.fromPairs(new URLSearchParams(text));
  }

  append(key: string, value: string): void {
    this.pairs.push([key, value]);
  }

  /** QueryDict.get: the last value, or undefined. */
  get(key: string): string | undefined {
    for (let i = this.pairs.length - 1; i >= 0; i--) {
      const pair = this.pairs[i] as [string, string];
      if (pair[0] === key) return pair[1];
    }
    return undefined;
  }

  getAll(key: string): string[] {
    return this.pairs.filter(([k]) => k === key).map(([, v]) => v);
  }

  has(key: string): boolean {
    return this.pairs.some(([k]) => k === key);
  }

  /** Keys in order of first appearance. */
  keys(): string[] {
    return [...new Set(this.pairs.map(([k]) => k))];
  }

  /** QueryDict.lists(): each key once, with all its values. */
  lists(): Array<[string, string[]]> {
    return this.keys().map((k) => [k, this.getAll(k)]);
  }

  entries(): ReadonlyArray<readonly [string, string]> {
    return this.pairs;
  }

  get size(): number {
    return this.pairs.length;
  }

  /** A copy without the given keys. */
  without(...keys: string[]): FormParams {
    const drop = new Set(keys);
    return FormParams.fromPairs(this.pairs.filter(([k]) => !drop.has(k)));
  }

  /** For the request log: single values as strings, repeated keys as arrays. */
  toRecord(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [k, values] of this.lists()) out[k] = values.length === 1 ? (values[0] as string) : values;
    return out;
  }
}
