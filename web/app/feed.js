// The live feed: one long poll on the engine's audit log (GET /v1/events?since=ID&wait=N) for
// the whole portal. Pages subscribe; each new event goes to every subscriber, which re-reads
// what it shows when the event concerns it. No timer-driven polling of the data itself.
import {api} from './api.js';

const subscribers = new Set();
let running = false;
let lastId = null;
let stopped = false;

export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

export function stopFeed() {
  stopped = true;
}

// The newest @n events (oldest first) and the id to follow from.
// the newest N events, of a host or a VM when given (the engine filters: GET /v1/events?tail=N&
// host_id=&vm_id=)
export async function tail(n, by = {}) {
  const q = new URLSearchParams({tail: String(n)});
  if (by.host) q.set('host_id', by.host);
  if (by.vm) q.set('vm_id', by.vm);
  const r = await api('GET', `/v1/events?${q}`);
  return r;
}

export async function startFeed() {
  stopped = false;
  if (running) return;
  running = true;
  try {
    if (lastId === null) lastId = (await tail(1)).last_id;
    while (!stopped) {
      let r;
      try {
        r = await api('GET', `/v1/events?since=${lastId}&wait=25&limit=1000`);
      } catch (e) {
        if (e.status === 401) break;
        await new Promise((ok) => setTimeout(ok, 2000)); // the engine restarts: try again
        continue;
      }
      lastId = r.last_id;
      if (r.events.length)
        for (const fn of [...subscribers]) {
          try { fn(r.events); } catch (e) { console.error(e); }
        }
    }
  } finally {
    running = false;
  }
}

// Run @fn at most once per @ms, after the last call (a burst of events: one re-read).
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
