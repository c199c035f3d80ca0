// One uPlot chart in a host element: as wide as the host (followed on resize), replaced
// when rebuilt, destroyed with its component. Shared by BarChart and LineChart.
import type uPlot from 'uplot';

export class ChartHost {
  /** The chart, once mounted. */
  plot: uPlot | null = null;
  private observer: ResizeObserver | null = null;

  /** `height` is read on every resize (the component's prop may change). */
  constructor(private readonly height: () => number) {}

  /** Replaces the chart by `make(width)`, drawn into `el` at the host's width. */
  mount(el: HTMLElement, make: (width: number) => uPlot): void {
    this.plot?.destroy();
    this.plot = make(Math.max(200, el.clientWidth));
    if (this.observer) return;
    this.observer = new ResizeObserver(() => {
      if (this.plot && el.clientWidth > 0) {
        this.plot.setSize({ width: el.clientWidth, height: this.height() });
      }
    });
    this.observer.observe(el);
  }

  /** Stops following the host and removes the chart. */
  destroy(): void {
    this.observer?.disconnect();
    this.observer = null;
    this.plot?.destroy();
    this.plot = null;
  }
}
