// Put in place of Intl.ListFormat in the bundle (scripts/bundle.mjs): @sindresorhus/is, which got
// loads, builds two list formats when it is imported, and the first one loads ICU's data, about
// 20 ms of every run's start. This one builds the real format when it is first used (only in the
// message of a failed type assertion).
export class LazyListFormat {
  #args;
  #real;
  constructor(...args) {
    this.#args = args;
  }
  #format() {
    this.#real ??= new globalThis.Intl.ListFormat(...this.#args);
    return this.#real;
  }
  format(list) {
    return this.#format().format(list);
  }
  formatToParts(list) {
    return this.#format().formatToParts(list);
  }
  resolvedOptions() {
    return this.#format().resolvedOptions();
  }
}
