/**
 * The dashboard page: fleet table, device charts, fleet trends and data quality, refreshed by polling the JSON API
 * (no page reloads). Text from the data is set as text, never as HTML. Charts are uPlot; `null` values are gaps.
 * Each chart's element carries `data-buckets` and `data-points` (buckets holding a reading) for the browser test.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import type {
  ConfigAnswer,
  DeviceAnswer,
  ErrorAnswer,
  FleetAnswer,
  FreshnessState,
  QualityAnswer,
  SeriesAnswer,
} from '../api-types';

const $ = <T extends HTMLElement = HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`page: no ${selector}`);
  return element;
};

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  attributes: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

class ApiError extends Error {
  public override readonly name = 'ApiError';
}

async function api<T>(route: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== '') query.set(name, String(value));
  const response = await fetch(`api/${route}?${query}`, { headers: { Accept: 'application/json' } });
  const body = (await response.json()) as T | ErrorAnswer;
  if (!response.ok) throw new ApiError((body as ErrorAnswer).error ?? `${response.status}`);
  return body as T;
}

const time = (iso: string) => new Date(iso).toLocaleString();
const ago = (iso: string, now: string) => {
  const seconds = Math.max(0, Math.round((new Date(now).getTime() - new Date(iso).getTime()) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
};
const duration = (ms: number) =>
  ms < 120_000
    ? `${Math.round(ms / 1000)} s`
    : ms < 7_200_000
      ? `${Math.round(ms / 60_000)} min`
      : `${(ms / 3_600_000).toFixed(1)} h`;
const reading = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(2));
const readingsText = (readings: Readonly<Record<string, number>>) =>
  Object.entries(readings)
    .map(([kind, value]) => `${kind} ${reading(value)}`)
    .join(', ');

/** What the user chose; the views follow it on every refresh. */
const view = {
  sort: 'deviceId' as 'deviceId' | 'lastSeen',
  order: 'asc' as 'asc' | 'desc',
  page: 1,
  pageSize: 25,
  search: '',
  freshness: undefined as FreshnessState | undefined,
  range: 'hour' as 'hour' | 'day' | 'week' | 'custom',
  from: '',
  to: '',
  device: undefined as string | undefined,
};

const rangeParams = () =>
  view.range === 'custom'
    ? { range: 'custom', from: new Date(view.from).toISOString(), to: new Date(view.to).toISOString() }
    : { range: view.range };

/** Charts by key, reused across refreshes (`setData`), replaced when their series change. */
const charts = new Map<string, { plot: uPlot; signature: string; holder: HTMLElement }>();

const COLOURS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b83280', '#2c7a7b'];

function chart(
  container: HTMLElement,
  key: string,
  title: string,
  times: readonly number[],
  series: readonly { label: string; values: readonly (number | null)[]; colour: string; fill?: string }[],
  bars = false,
) {
  const signature = series.map((s) => s.label).join('|');
  const data = [times.map((t) => t / 1000), ...series.map((s) => [...s.values])] as uPlot.AlignedData;
  let entry = charts.get(key);
  if (entry && (entry.signature !== signature || entry.holder.parentElement !== container)) {
    entry.plot.destroy();
    entry.holder.remove();
    charts.delete(key);
    entry = undefined;
  }
  if (!entry) {
    const holder = element('div', undefined, { class: 'chart', 'data-chart': key });
    holder.append(element('h3', title));
    container.append(holder);
    // The grid cell's width, once the holder is in it
    const width = Math.max(320, holder.clientWidth - 8);
    const plot = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: true } },
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.colour,
            width: 1.5,
            spanGaps: false,
            ...(s.fill ? { fill: s.fill } : {}),
            ...(bars ? { fill: s.colour, paths: uPlot.paths.bars?.({ size: [0.8, 24] }) } : {}),
          })),
        ],
        legend: { live: false },
      },
      data,
      holder,
    );
    entry = { plot, signature, holder };
    charts.set(key, entry);
  } else {
    entry.plot.setData(data);
  }
  const main = series[Math.min(1, series.length - 1)]?.values ?? [];
  entry.holder.dataset.buckets = String(times.length);
  entry.holder.dataset.points = String(main.filter((v) => v !== null).length);
}

/** Removes the charts under `container` whose keys are not in `keep`. */
function prune(container: HTMLElement, keep: Set<string>) {
  for (const [key, entry] of charts) {
    if (entry.holder.parentElement === container && !keep.has(key)) {
      entry.plot.destroy();
      entry.holder.remove();
      charts.delete(key);
    }
  }
}

function seriesCharts(container: HTMLElement, prefix: string, answer: SeriesAnswer) {
  const keep = new Set<string>();
  for (const s of answer.series) {
    const key = `${prefix}:${s.kind}`;
    keep.add(key);
    chart(container, key, s.kind, answer.times, [
      { label: 'min', values: s.min, colour: '#90cdf4' },
      { label: 'avg', values: s.avg, colour: '#2b6cb0' },
      { label: 'max', values: s.max, colour: '#f6ad55' },
    ]);
  }
  prune(container, keep);
  const empty = container.querySelector('.empty');
  if (answer.series.length === 0 && !empty)
    container.append(element('p', 'No readings in this range.', { class: 'empty' }));
  if (answer.series.length > 0) empty?.remove();
}

function renderFleet(answer: FleetAnswer) {
  const counts = $('#fleet-counts');
  counts.replaceChildren(
    ...(['all', 'fresh', 'late', 'silent'] as const).map((state) => {
      const button = element('button', `${state} ${answer.counts[state]}`, {
        type: 'button',
        'data-freshness': state,
        'aria-pressed': String((view.freshness ?? 'all') === state),
      });
      button.addEventListener('click', () => {
        view.freshness = state === 'all' ? undefined : state;
        view.page = 1;
        void refresh();
      });
      return button;
    }),
  );
  const rows = answer.devices.map((device) => {
    const row = element('tr', undefined, { 'data-device': device.deviceId });
    row.append(
      element('td', device.deviceId),
      element('td', ago(device.lastSeen, answer.now), { title: time(device.lastSeen) }),
      element('td', device.freshness, { class: `state state-${device.freshness}` }),
      element('td', readingsText(device.readings)),
      element('td', device.count.toLocaleString(), { class: 'number' }),
    );
    row.addEventListener('click', () => openDevice(device.deviceId));
    return row;
  });
  $('#fleet-table tbody').replaceChildren(...rows);
  const pages = Math.max(1, Math.ceil(answer.matched / answer.pageSize));
  $('#fleet-page').textContent = `page ${answer.page} of ${pages} · ${answer.matched.toLocaleString()} device(s)`;
  $<HTMLButtonElement>('#fleet-prev').disabled = answer.page <= 1;
  $<HTMLButtonElement>('#fleet-next').disabled = answer.page >= pages;
  for (const button of document.querySelectorAll<HTMLButtonElement>('th button[data-sort]'))
    button.dataset.active = button.dataset.sort === view.sort ? view.order : '';
}

function renderDevice(answer: DeviceAnswer) {
  const { device } = answer;
  $('#device-id').textContent = device.deviceId;
  const facts: [string, string][] = [
    ['state', device.freshness],
    ['last seen', `${time(device.lastSeen)} (${ago(device.lastSeen, answer.now)})`],
    ['seq', String(device.seq)],
    ...Object.entries(device.readings).map(([kind, value]) => [kind, reading(value)] as [string, string]),
  ];
  $('#device-state').replaceChildren(
    ...facts.map(([name, value]) => {
      const pair = element('div');
      pair.append(element('dt', name), element('dd', value));
      return pair;
    }),
  );
  seriesCharts($('#device-charts'), `device:${device.deviceId}`, answer);
}

function rows(selector: string, cells: readonly (readonly [string, string?])[][], onClick?: (index: number) => void) {
  $(`${selector} tbody`).replaceChildren(
    ...cells.map((row, index) => {
      const tr = element('tr');
      tr.append(...row.map(([text, className]) => element('td', text, className ? { class: className } : {})));
      if (onClick) tr.addEventListener('click', () => onClick(index));
      return tr;
    }),
  );
}

function renderQuality(answer: QualityAnswer) {
  rows(
    '#quality-reasons',
    answer.reasons.map((r) => [[r.reason], [r.count.toLocaleString(), 'number'], [time(r.last)]]),
  );
  rows(
    '#quality-gaps',
    answer.gaps.map((g) => [
      [g.deviceId],
      [g.missing.toLocaleString(), 'number'],
      [String(g.resent), 'number'],
      [`${g.first}–${g.last}`, 'number'],
    ]),
    (i) => {
      const gap = answer.gaps[i];
      if (gap) openDevice(gap.deviceId);
    },
  );
  $('#late-threshold').textContent = `received more than ${duration(answer.late.afterMs)} after their device time`;
  rows(
    '#quality-late',
    answer.late.devices.map((d) => [
      [d.deviceId],
      [d.count.toLocaleString(), 'number'],
      [duration(d.maxDelayMs), 'number'],
    ]),
    (i) => {
      const late = answer.late.devices[i];
      if (late) openDevice(late.deviceId);
    },
  );
  const container = $('#quality-chart');
  const { times, series } = answer.quarantineOverTime;
  if (series.length === 0) {
    prune(container, new Set());
    container.replaceChildren(element('p', 'Nothing in the sink quarantine in this range.', { class: 'empty' }));
    return;
  }
  container.querySelector('.empty')?.remove();
  chart(
    container,
    'quarantine',
    'sink quarantine per bucket',
    times,
    series.map((s, i) => ({ label: s.reason, values: s.counts, colour: COLOURS[i % COLOURS.length] ?? '#333' })),
    true,
  );
}

function openDevice(deviceId: string) {
  view.device = deviceId;
  $('#device').hidden = false;
  prune($('#device-charts'), new Set());
  void refresh().then(() => $('#device').scrollIntoView({ behavior: 'smooth' }));
}

let running: Promise<void> | undefined;
let queued: Promise<void> | undefined;
let refreshCount = 0;

/** The view as the API is asked for it: answers asked for another view are not shown. */
const viewKey = () => JSON.stringify(view);

/**
 * Refreshes every visible view at once, one refresh at a time. One asked for while another is under way (a click, a
 * search, the poll) runs after it, with the view as it is then; the asks made meanwhile share it. Resolves once the
 * views show what was asked for.
 */
function refresh(): Promise<void> {
  if (!running) {
    running = load().finally(() => {
      running = undefined;
    });
    return running;
  }
  queued ??= running.then(() => {
    queued = undefined;
    return refresh();
  });
  return queued;
}

async function load(): Promise<void> {
  const status = $('#status');
  const asked = viewKey();
  // The user changed the view while the answers were on their way: showing them would undo the change until the
  // next poll. The refresh that change asked for (or this one) runs next, and shows it.
  const stale = () => {
    if (viewKey() === asked) return false;
    void refresh();
    return true;
  };
  try {
    const range = rangeParams();
    const [fleet, trends, quality, device] = await Promise.all([
      api<FleetAnswer>('fleet', {
        sort: view.sort,
        order: view.order,
        page: view.page,
        pageSize: view.pageSize,
        search: view.search,
        freshness: view.freshness,
      }),
      api<SeriesAnswer>('trends', range),
      api<QualityAnswer>('quality', range),
      view.device ? api<DeviceAnswer>('device', { id: view.device, ...range }) : Promise.resolve(undefined),
    ]);
    if (stale()) return;
    renderFleet(fleet);
    seriesCharts($('#trend-charts'), 'trend', trends);
    renderQuality(quality);
    if (device) renderDevice(device);
    $('#range-bucket').textContent = `buckets of ${duration(trends.bucket.ms)}`;
    refreshCount += 1;
    status.dataset.state = 'ok';
    status.dataset.refreshes = String(refreshCount);
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (stale()) return;
    status.dataset.state = 'error';
    status.textContent = `could not refresh: ${(error as Error).message}`;
  }
}

function wire() {
  for (const button of document.querySelectorAll<HTMLButtonElement>('th button[data-sort]')) {
    button.addEventListener('click', () => {
      const sort = button.dataset.sort === 'lastSeen' ? 'lastSeen' : 'deviceId';
      view.order = view.sort === sort && view.order === 'asc' ? 'desc' : 'asc';
      view.sort = sort;
      view.page = 1;
      void refresh();
    });
  }
  let typing: number | undefined;
  $<HTMLInputElement>('#fleet-search').addEventListener('input', (event) => {
    window.clearTimeout(typing);
    typing = window.setTimeout(() => {
      view.search = (event.target as HTMLInputElement).value.trim();
      view.page = 1;
      void refresh();
    }, 250);
  });
  $('#fleet-prev').addEventListener('click', () => {
    view.page = Math.max(1, view.page - 1);
    void refresh();
  });
  $('#fleet-next').addEventListener('click', () => {
    view.page += 1;
    void refresh();
  });
  const rangeButtons = [...document.querySelectorAll<HTMLButtonElement>('#range button')];
  const pressRange = () => {
    for (const button of rangeButtons)
      button.setAttribute('aria-pressed', String((button.dataset.range ?? 'custom') === view.range));
  };
  for (const button of rangeButtons.filter((b) => b.dataset.range)) {
    button.addEventListener('click', () => {
      view.range = button.dataset.range as typeof view.range;
      pressRange();
      void refresh();
    });
  }
  $('#range-custom').addEventListener('click', () => {
    view.from = $<HTMLInputElement>('#range-from').value;
    view.to = $<HTMLInputElement>('#range-to').value;
    if (!view.from || !view.to) {
      $('#status').textContent = 'choose both dates of a custom range';
      return;
    }
    view.range = 'custom';
    pressRange();
    void refresh();
  });
  $('#device-close').addEventListener('click', () => {
    view.device = undefined;
    prune($('#device-charts'), new Set());
    $('#device').hidden = true;
  });
  pressRange();
}

async function start() {
  wire();
  const config = await api<ConfigAnswer>('config');
  await refresh();
  window.setInterval(() => void refresh(), config.refreshMs);
}

start().catch((error: unknown) => {
  const status = $('#status');
  status.dataset.state = 'error';
  status.textContent = `could not start: ${(error as Error).message}`;
});
