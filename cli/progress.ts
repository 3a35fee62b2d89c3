/** A one-line progress bar with rate and ETA on a terminal; periodic plain lines otherwise. */
export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastPrint = 0;

  constructor(private readonly label: string, private total: number | undefined, private readonly out: NodeJS.WriteStream = process.stderr, private readonly quiet = false) {}

  add(n: number, total?: number): void {
    this.done += n;
    if (total !== undefined) this.total = total;
    const now = Date.now();
    if (now - this.lastPrint >= (this.out.isTTY ? 200 : 5000)) {
      this.lastPrint = now;
      this.render(false);
    }
  }

  finish(): void {
    this.render(true);
  }

  private render(final: boolean): void {
    if (this.quiet) return;
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = this.done / seconds;
    const total = this.total && this.total >= this.done ? this.total : undefined;
    const bar = total ? `[${'#'.repeat(Math.round((20 * this.done) / total)).padEnd(20, '.')}] ` : '';
    const eta = total && rate > 0 && !final ? `, ETA ${Math.ceil((total - this.done) / rate)} s` : '';
    const line = `${this.label} ${bar}${this.done}${total ? `/${total}` : ''} items, ${rate.toFixed(0)}/s${eta}`;
    this.out.write(this.out.isTTY ? `\r${line}\x1b[K${final ? '\n' : ''}` : `${line}\n`);
  }
}
