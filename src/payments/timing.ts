// Phase timings of a paid call, reported as a Server-Timing header so agents (and our benchmarks)
// can see where the time goes: verify, admit, tenant, settle (the commit runs after the response).
export class PhaseTimer {
  private readonly phases: [string, number][] = [];
  private last = Date.now();

  mark(phase: string): void {
    const now = Date.now();
    this.phases.push([phase, now - this.last]);
    this.last = now;
  }

  header(): string {
    return this.phases.map(([name, ms]) => `${name};dur=${ms}`).join(", ");
  }
}
