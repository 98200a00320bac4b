/* global performance */
// The review viewer (docs/review.md "The viewer"): every slice of the analysed series with the engine's label
// map, drawn on a canvas in the page. Slices come raw from /v1 (int16 HU, uint8 class values) and are
// windowed and coloured here (viewer-render.js), so a window/level drag or an overlay change redraws with no
// round trip. Decoded slices are kept in this tab's memory only (a bounded map): the server answers no-store.
import { h as el } from './dom.js';
import { PRESETS, clampSlice, maxSliceOf, palette, renderSlice, sliceShares, windowLut } from './viewer-render.js';

/** Slices kept in the tab: 96 × (512² × 3 bytes) ≈ 72 MiB at most. */
const KEEP_SLICES = 96;
/** Neighbours fetched ahead in the direction of travel, so scrolling on finds them ready. */
const AHEAD = 3;
/** Wheel delta (pixels) per slice, so a trackpad's many small deltas do not race through the series. */
const WHEEL_STEP = 40;

const hex = (rgb) => `#${rgb.map((n) => n.toString(16).padStart(2, '0')).join('')}`;
const pct = (v) => (v >= 10 ? v.toFixed(0) : v >= 0.1 ? v.toFixed(1) : v > 0 ? '<0.1' : '0');

/**
 * Builds the viewer for one case. `info` is GET /v1/cases/{id}/viewer (series not null); `bytes(path)` fetches
 * with the physician's token and returns an ArrayBuffer. Returns the panel, `go(z)`, `keyImage(step)` and
 * `onKey(e)` (the case page routes its keys here) and `destroy()`.
 */
export function createViewer({ caseId, info, bytes }) {
  const s = info.series;
  const count = s.sliceCount;
  const withMap = info.labelMap.status === 'stored' && Array.isArray(info.classCounts);
  const coloured = info.classes.filter((c) => c.rgb);
  const state = { z: 0, want: 0, width: PRESETS.lung.width, level: PRESETS.lung.level, overlay: withMap, opacity: 0.45, hidden: new Set(), key: -1 };
  let lut = windowLut(state.width, state.level);
  let pal = palette(info.classes, state.hidden);
  const cache = new Map(); // z → Promise<{hu, labels}>, oldest first

  const canvas = el('canvas', { id: 'viewer-canvas', width: s.columns, height: s.rows, tabindex: '0', role: 'img', class: 'slice' });
  // Square pixels on screen whatever the matrix: the canvas keeps the patient's proportions (PS3.3 C.7.6.2.1.1).
  canvas.style.aspectRatio = `${s.columns * s.pixelSpacingMm[1]} / ${s.rows * s.pixelSpacingMm[0]}`;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const image = ctx.createImageData(s.columns, s.rows);
  const slider = el('input', { type: 'range', id: 'slice-slider', min: '0', max: String(count - 1), step: '1', value: '0', 'aria-label': 'Slice' });
  const where = el('output', { id: 'slice-label', for: 'slice-slider', 'aria-live': 'polite' });
  const wl = el('output', { id: 'wl-readout' });
  const timing = el('span', { id: 'viewer-timing', class: 'muted small' });
  const shares = el('dl', { id: 'slice-shares', class: 'q shares', 'aria-label': 'Classes on this slice (% of the slice’s lung)' });
  const preset = (name) => el('button', { type: 'button', class: 'secondary', id: `preset-${name}`, 'aria-pressed': 'false', onclick: () => setWindow(PRESETS[name].width, PRESETS[name].level) }, PRESETS[name].label);
  const presetButtons = [preset('lung'), preset('mediastinal')];
  const wlMode = el('button', { type: 'button', class: 'secondary', id: 'wl-mode', 'aria-pressed': 'false', title: 'Drag on the image to change window (left–right) and level (up–down); the right button always does', onclick: () => wlMode.setAttribute('aria-pressed', String(wlMode.getAttribute('aria-pressed') !== 'true')) }, 'Drag W/L');
  const overlay = el('input', { type: 'checkbox', id: 'overlay-toggle', checked: state.overlay, disabled: !withMap });
  const opacity = el('input', { type: 'range', id: 'overlay-opacity', min: '0', max: '100', value: String(state.opacity * 100), 'aria-label': 'Overlay opacity', disabled: !withMap });
  const toggles = coloured.map((c) =>
    el('label', { class: 'class-toggle', style: { '--c': hex(c.rgb) } },
      el('input', { type: 'checkbox', id: `class-${c.key}`, checked: true, disabled: !withMap, onchange: (e) => { if (e.target.checked) state.hidden.delete(c.key); else state.hidden.add(c.key); pal = palette(info.classes, state.hidden); redraw(); } }),
      c.label));
  const keyButtons = info.keyImages.map((k, i) =>
    el('button', { type: 'button', class: 'secondary key-jump', id: `key-jump-${i + 1}`, 'data-slice': String(k.sliceIndex), title: k.reason, onclick: () => keyImage(i - state.key) }, `Key ${i + 1} · ${k.zone}`));
  const maxButtons = withMap
    ? info.classes.flatMap((c, k) => {
        if (!c.rgb) return [];
        const z = maxSliceOf(info.classCounts, k);
        return [el('button', { type: 'button', class: 'secondary most', id: `most-${c.key}`, disabled: z < 0, 'data-slice': String(z), title: z < 0 ? `No ${c.label.toLowerCase()} on any slice` : `Slice ${z + 1}`, onclick: () => go(z) }, `Most ${c.label.toLowerCase()}`)];
      })
    : [];

  const panel = el('div', { class: 'viewer-wrap' },
    el('div', { class: 'viewer', id: 'viewer' }, canvas),
    el('div', { class: 'viewer-side' },
      el('h3', {}, 'This slice'),
      withMap ? shares : el('p', { class: 'muted small' }, 'No class shares without a label map.'),
      el('p', { class: 'small' }, where, ' ', timing)),
    el('div', { class: 'viewer-controls' },
      el('div', { class: 'row' }, el('label', { for: 'slice-slider' }, 'Slice'), slider),
      el('div', { class: 'row', role: 'group', 'aria-label': 'Window' }, el('span', { class: 'muted small' }, 'Window'), presetButtons, wlMode, wl),
      el('div', { class: 'row', role: 'group', 'aria-label': 'Overlay' },
        el('label', { class: 'inline' }, overlay, ' Overlay ', el('kbd', {}, 'o')),
        el('label', { class: 'inline', for: 'overlay-opacity' }, 'Opacity'), opacity),
      withMap ? el('div', { class: 'row classes', role: 'group', 'aria-label': 'Classes shown' }, toggles) : null,
      keyButtons.length ? el('div', { class: 'row', role: 'group', 'aria-label': 'Key images' }, el('span', { class: 'muted small' }, 'Go to'), keyButtons) : null,
      maxButtons.length ? el('div', { class: 'row', role: 'group', 'aria-label': 'Slice with the most of a class' }, maxButtons) : null),
  );

  function load(z) {
    let p = cache.get(z);
    if (p) {
      cache.delete(z);
      cache.set(z, p);
      return p;
    }
    p = Promise.all([bytes(`/v1/cases/${caseId}/slices/${z}`), withMap ? bytes(`/v1/cases/${caseId}/slices/${z}/labels`) : null]).then(([hu, labels]) => ({
      hu: new Int16Array(hu),
      labels: labels ? new Uint8Array(labels) : null,
    }));
    p.catch(() => cache.delete(z)); // a failed read is tried again next time
    cache.set(z, p);
    while (cache.size > KEEP_SLICES) cache.delete(cache.keys().next().value);
    return p;
  }

  let shown = null;
  function redraw() {
    if (!shown) return;
    renderSlice(image.data, shown.hu, state.overlay ? shown.labels : null, lut, pal, state.opacity);
    ctx.putImageData(image, 0, 0);
    canvas.dataset.slice = String(state.z);
    canvas.dataset.window = `${state.width}/${state.level}`;
    canvas.dataset.overlay = String(state.overlay && !!shown.labels);
    canvas.setAttribute('aria-label', `Slice ${state.z + 1} of ${count}, window W${state.width} L${state.level}${withMap ? `, overlay ${state.overlay ? 'on' : 'off'}` : ''}`);
    wl.value = `W ${state.width} · L ${state.level}`;
    for (const b of presetButtons) b.setAttribute('aria-pressed', 'false');
    for (const [name, p] of Object.entries(PRESETS)) if (p.width === state.width && p.level === state.level) panel.querySelector(`#preset-${name}`).setAttribute('aria-pressed', 'true');
  }

  function showShares(z) {
    if (!withMap) return;
    const rows = sliceShares(info.classCounts[z], info.classes);
    const order = info.reportOrder.map((key) => rows.find((r) => r.key === key)).filter(Boolean);
    shares.replaceChildren(...(order.length ? order.flatMap((r) => [el('dt', {}, r.label), el('dd', { 'data-key': r.key }, `${pct(r.percent)}%`)]) : [el('dt', {}, 'No lung on this slice'), el('dd', {}, '')]));
  }

  /** Shows slice z: from the tab's memory when held, else fetched; a later request overtakes an earlier one. */
  async function go(z, dir = 0) {
    z = clampSlice(z, count);
    state.want = z;
    slider.value = String(z);
    where.value = `Slice ${z + 1} / ${count}`;
    const t0 = performance.now();
    let data;
    try {
      data = await load(z);
    } catch (x) {
      if (state.want === z) timing.textContent = `Slice could not be loaded: ${x.message}`;
      return;
    }
    if (state.want !== z) return; // the physician has moved on
    state.z = z;
    shown = data;
    redraw();
    showShares(z);
    timing.textContent = `${Math.round(performance.now() - t0)} ms`;
    const step = dir || 1;
    for (let i = 1; i <= AHEAD; i++) if (z + i * step >= 0 && z + i * step < count) void load(z + i * step).catch(() => {});
  }

  function setWindow(width, level) {
    state.width = Math.max(1, Math.round(width));
    state.level = Math.round(level);
    lut = windowLut(state.width, state.level);
    redraw();
  }

  /** Moves to the next (step 1) or previous (−1) key image, or to key image `step` from the current one. */
  function keyImage(step) {
    if (!info.keyImages.length) return;
    state.key = (((state.key + step) % info.keyImages.length) + info.keyImages.length) % info.keyImages.length;
    keyButtons.forEach((b, i) => b.setAttribute('aria-current', String(i === state.key)));
    void go(info.keyImages[state.key].sliceIndex);
  }

  // Pointer: the wheel scrolls; the right button (or the left with "Drag W/L" on) drags window and level.
  let wheel = 0;
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    // A mouse notch (|deltaY| ≥ WHEEL_STEP) is one slice; a trackpad's small deltas add up to one.
    if (Math.abs(e.deltaY) < WHEEL_STEP) wheel += e.deltaY;
    const n = Math.abs(e.deltaY) >= WHEEL_STEP ? Math.sign(e.deltaY) : Math.trunc(wheel / WHEEL_STEP);
    if (!n) return;
    wheel = 0;
    void go(state.want + n, Math.sign(n));
  }, { passive: false });
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    if (!(e.button === 2 || (e.button === 0 && wlMode.getAttribute('aria-pressed') === 'true'))) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    drag = { x: e.clientX, y: e.clientY, width: state.width, level: state.level };
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    // 4 HU of width per pixel across, 2 HU of level per pixel down: the whole lung window in ~370 px.
    setWindow(drag.width + (e.clientX - drag.x) * 4, drag.level + (e.clientY - drag.y) * 2);
  });
  const endDrag = () => (drag = null);
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
  slider.addEventListener('input', () => void go(Number(slider.value), Math.sign(Number(slider.value) - state.want)));
  overlay.addEventListener('change', () => { state.overlay = overlay.checked; redraw(); });
  opacity.addEventListener('input', () => { state.opacity = Number(opacity.value) / 100; redraw(); });

  /** The case page's keys, while no form field has the focus; true when the key was the viewer's. */
  function onKey(e) {
    const moves = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10 };
    if (e.key in moves) void go(state.want + moves[e.key], Math.sign(moves[e.key]));
    else if (e.key === 'Home') void go(0, 1);
    else if (e.key === 'End') void go(count - 1, -1);
    else if (e.key === 'l') setWindow(PRESETS.lung.width, PRESETS.lung.level);
    else if (e.key === 'm') setWindow(PRESETS.mediastinal.width, PRESETS.mediastinal.level);
    else if (e.key === 'o' && withMap) { overlay.checked = !overlay.checked; state.overlay = overlay.checked; redraw(); }
    else if (e.key === ']') keyImage(1);
    else if (e.key === '[') keyImage(-1);
    else return false;
    e.preventDefault();
    return true;
  }

  // Open on the first key image (where the engine saw the most), else the middle of the series.
  if (info.keyImages.length) keyImage(1);
  else void go(Math.floor(count / 2));
  return { panel, go, keyImage, onKey, destroy: () => cache.clear() };
}
