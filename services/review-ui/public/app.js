/* global window, document, location, sessionStorage, fetch, setTimeout, clearTimeout, setInterval, clearInterval, URL */
// ildflow review page: plain JavaScript module, no build step. Every request goes to /v1 with the
// physician's bearer token (kept in sessionStorage, so it ends with the tab). The server decides and
// audits; this page shows state and never keeps PHI beyond the tab (drafts live in sessionStorage too).
// The token is pasted, or comes from the hospital's OpenID Provider (sign-in.js); an expired one signs the
// physician out with the unsent decision kept as a draft for when they are back.
import { finishSignIn, providerSettings, startSignIn } from './sign-in.js';
import { h } from './dom.js';
import { createViewer } from './viewer.js';

const CATEGORIES = {
  uip: 'UIP pattern',
  probable_uip: 'Probable UIP pattern',
  indeterminate: 'Indeterminate for UIP',
  alternative_diagnosis: 'Alternative diagnosis',
  no_fibrosis: 'No fibrotic lung disease',
};
const RENEW_WHEN_MS = 10 * 60_000; // renew the lease when less than this is left
const TOKEN_KEY = 'ildflow.token';

const $ = (sel, root = document) => root.querySelector(sel);
const main = $('#main');
let me = null;
let teardown = [];

function toast(text, bad = false) {
  const t = $('#toast');
  t.textContent = text;
  t.className = bad ? 'bad' : '';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 5000);
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    cache: 'no-store',
  });
  if (res.status === 401) {
    signOut('Your session is not valid any more: sign in again.');
    throw new ApiError(401, null);
  }
  const type = res.headers.get('content-type') || '';
  if (!res.ok) throw new ApiError(res.status, type.includes('json') ? await res.json() : null);
  return type.includes('json') ? res.json() : res.blob();
}

/** A raw slice from /v1 as an ArrayBuffer (the viewer's pixels and labels). */
async function bytes(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` }, cache: 'no-store' });
  if (res.status === 401) {
    signOut('Your session is not valid any more: sign in again.');
    throw new ApiError(401, null);
  }
  if (!res.ok) throw new ApiError(res.status, (res.headers.get('content-type') || '').includes('json') ? await res.json() : null);
  return res.arrayBuffer();
}

const when = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '—');
const day = (da) => (da && /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6)}` : da || '—');
const patientName = (n) => (n || '').split('^').filter(Boolean).join(', ');
function waited(iso) {
  if (!iso) return '—';
  const m = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60000));
  return m < 60 ? `${m} min` : m < 2880 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 1440)} d`;
}
const holdsIt = (c) => c.claim && me && c.claim.userId === me.id;

// ── Routing (hash based: no reloads, the browser's back button works) ────────────────────────────────
function route() {
  for (const f of teardown.splice(0)) f();
  if (!sessionStorage.getItem(TOKEN_KEY)) return renderSignIn();
  $('#nav').hidden = false;
  const m = /^#\/case\/([A-Za-z0-9._-]+)$/.exec(location.hash);
  if (m) return renderCase(m[1]);
  return renderQueue();
}
window.addEventListener('hashchange', route);

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  $('#nav').hidden = true;
  renderSignIn(message);
}
$('#sign-out').addEventListener('click', () => signOut());

// ── Sign in ──────────────────────────────────────────────────────────────────────────────────────────
function renderSignIn(message) {
  $('#nav').hidden = true;
  const err = h('p', { class: 'error', id: 'signin-error', role: 'alert' }, message || '');
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true, 'aria-describedby': 'signin-error' });
  const form = h('form', { class: 'panel signin', id: 'signin' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'Paste your ildflow access token. It is kept for this browser tab only.'),
    h('label', { for: 'token' }, 'Access token'), input, err,
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      me = await api('GET', '/v1/me');
      if (!me.roles.includes('radiologist')) {
        sessionStorage.removeItem(TOKEN_KEY);
        err.textContent = 'This token does not belong to a physician (radiologist role).';
        return;
      }
      if (location.hash !== '#/queue') location.hash = '#/queue';
      else route();
    } catch (x) {
      if (x.status !== 401) err.textContent = x.message;
      else $('#signin-error').textContent = 'That token was not accepted.';
    }
  });
  main.replaceChildren(form);
  input.focus();
  void providerSettings().then((settings) => {
    if (!settings || !form.isConnected) return;
    const go = h('button', { type: 'button', class: 'primary', id: 'provider-sign-in' }, 'Sign in with your hospital account');
    go.addEventListener('click', () => startSignIn(settings).catch((x) => (err.textContent = x.message)));
    form.insertBefore(h('div', { class: 'actions' }, go), form.children[1]);
    go.focus();
  });
}

/** Back from the provider with a code: exchange it, then show the queue (or the case the physician was in). */
async function start() {
  const settings = await providerSettings();
  try {
    const token = settings ? await finishSignIn(settings) : null;
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      me = await api('GET', '/v1/me');
      if (!me.roles.includes('radiologist')) {
        sessionStorage.removeItem(TOKEN_KEY);
        return renderSignIn('This account is not a physician’s (radiologist role).');
      }
    }
  } catch (x) {
    if (x.status !== 401) renderSignIn(x.message); // a 401 has signed out with its own message
    return;
  }
  route();
}

async function ensureMe() {
  if (!me) me = await api('GET', '/v1/me');
  $('#who').textContent = `${me.name}${me.npi ? ` · NPI ${me.npi}` : ''}`;
}

// ── Queue ────────────────────────────────────────────────────────────────────────────────────────────
let selected = 0;
async function renderQueue() {
  document.title = 'Queue · ildflow';
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading the queue…'));
  let items;
  try {
    await ensureMe();
    ({ items } = await api('GET', '/v1/review/queue'));
  } catch (x) {
    if (x.status !== 401) main.replaceChildren(h('p', { class: 'banner bad', role: 'alert' }, `The queue could not be loaded: ${x.message}`));
    return;
  }
  const rows = items.map((c, i) =>
    h('tr', { 'data-id': c.id, 'aria-selected': String(i === selected), onclick: () => open(c.id), tabindex: '-1' },
      h('td', {}, h('span', { class: `pill ${c.priority}` }, c.priority)),
      h('td', {}, h('strong', {}, patientName(c.patient.name)), h('div', { class: 'muted small' }, `MRN ${c.patient.id}`)),
      h('td', {}, day(c.studyDate)),
      h('td', {}, c.category ? CATEGORIES[c.category] : '—'),
      h('td', {}, waited(c.readySince || c.createdAt)),
      h('td', { class: 'claim' }, c.claim
        ? h('span', { class: `pill ${holdsIt(c) ? 'mine' : 'held'}` }, holdsIt(c) ? 'you' : `held by ${c.claim.userName}`)
        : h('span', { class: 'muted' }, 'free')),
    ),
  );
  selected = Math.min(selected, Math.max(0, rows.length - 1));
  const table = h('table', { class: 'queue', id: 'queue', 'aria-label': 'Review queue' },
    h('thead', {}, h('tr', {}, ['Priority', 'Patient', 'Study date', 'Engine result', 'Waiting', 'Claim'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows),
  );
  main.replaceChildren(
    h('div', { style: { display: 'flex', 'justify-content': 'space-between', 'align-items': 'baseline' } },
      h('h1', {}, `Review queue (${items.length})`),
      h('span', { class: 'muted small' }, 'j/k to move · Enter to open · r to refresh · ? for help')),
    items.length ? table : h('div', { class: 'panel empty' }, 'Nothing to review. New results appear here when the analysis finishes.'),
  );
  const move = (d) => {
    if (!rows.length) return;
    rows[selected]?.setAttribute('aria-selected', 'false');
    selected = (selected + d + rows.length) % rows.length;
    rows[selected].setAttribute('aria-selected', 'true');
    rows[selected].scrollIntoView({ block: 'nearest' });
  };
  const open = (id) => (location.hash = `#/case/${id}`);
  const onKey = (e) => {
    if (e.target.closest('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'j' || e.key === 'ArrowDown') { e.preventDefault(); move(1); }
    else if (e.key === 'k' || e.key === 'ArrowUp') { e.preventDefault(); move(-1); }
    else if (e.key === 'Enter' && rows[selected]) open(rows[selected].dataset.id);
    else if (e.key === 'r') renderQueue();
  };
  document.addEventListener('keydown', onKey);
  const timer = setInterval(() => { if (document.visibilityState === 'visible') renderQueue(); }, 30_000);
  teardown.push(() => document.removeEventListener('keydown', onKey), () => clearInterval(timer));
}

// ── Case ─────────────────────────────────────────────────────────────────────────────────────────────
const draftKey = (id) => `ildflow.draft.${id}`;

async function renderCase(id) {
  main.replaceChildren(h('p', { class: 'muted' }, 'Opening the case…'));
  let c;
  try {
    await ensureMe();
    c = await api('GET', `/v1/cases/${id}`);
    // Opening a waiting case claims it (worklist semantics): the lease says who is reading it.
    if (c.status === 'awaiting_review' || (c.status === 'in_review' && c.claim && Date.parse(c.claim.expiresAt) <= Date.now())) {
      try {
        const r = await api('POST', `/v1/cases/${id}/claim`);
        c = { ...c, status: r.status, claim: r.claim };
      } catch (x) {
        if (x.status !== 409) throw x;
        c = await api('GET', `/v1/cases/${id}`); // someone was quicker: show who holds it
      }
    }
  } catch (x) {
    if (x.status !== 401) main.replaceChildren(h('p', { class: 'banner bad', role: 'alert' }, `The case could not be opened: ${x.message}`), h('a', { href: '#/queue' }, '← Back to the queue'));
    return;
  }
  const r = c.result;
  document.title = `${patientName(c.patient.name)} · ildflow`;
  if (!r) {
    main.replaceChildren(h('p', { class: 'banner info' }, `This case is ${c.status.replace('_', ' ')} and has no result yet.`), h('a', { href: '#/queue' }, '← Back to the queue'));
    return;
  }

  // The viewer's document: the series to scroll (or where its images are now), the one vocabulary of
  // classes (labels, colours, the reports' order) and what the engine's label map holds per slice.
  let info;
  try {
    info = await api('GET', `/v1/cases/${id}/viewer`);
  } catch (x) {
    if (x.status !== 401) main.replaceChildren(h('p', { class: 'banner bad', role: 'alert' }, `The images could not be opened: ${x.message}`), h('a', { href: '#/queue' }, '← Back to the queue'));
    return;
  }
  const viewer = info.series ? createViewer({ caseId: id, info, bytes }) : null;
  if (viewer) teardown.push(() => viewer.destroy());
  const keys = viewer ? null : keyImages(id, r);
  const byKey = new Map(info.classes.map((k) => [k.key, k]));
  const reportClasses = info.reportOrder.map((k) => byKey.get(k));

  const q = r.quantities;
  const fibrosis = Math.round((q.extents.reticulation + q.extents.honeycombing) * 10) / 10;
  const maxZone = Math.max(10, q.zones.upper.fibrosisPercent, q.zones.middle.fibrosisPercent, q.zones.lower.fibrosisPercent);
  const zone = (name, v) => h('div', { class: 'row' }, h('span', {}, name), h('div', { class: 'track', role: 'img', 'aria-label': `${name} zone ${v}%` }, h('div', { class: 'fill', style: { '--w': `${(v / maxZone) * 100}%` } })), h('span', { class: 'val' }, `${v}%`));
  const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
  const research = r.engine.regulatory.status === 'research';

  const left = h('div', { class: 'stack' },
    h('section', { class: 'panel', id: 'viewer-panel', 'aria-label': 'Images' },
      h('h2', {}, viewer ? `Series · ${info.series.sliceCount} slices` : 'Key images'),
      // After retention the series lives only in the PACS (docs/operations.md "Spool retention").
      info.images.heldBy === 'pacs' ? h('p', { class: 'banner info small', id: 'images-in-pacs', role: 'note' },
        `${info.images.note} ${info.images.purgedAt ? `Removed on ${when(info.images.purgedAt)}; ` : ''}study ${info.images.studyInstanceUid || '—'}, series ${info.images.seriesInstanceUid || '—'}.`) : null,
      // The overlay is the engine's label map; an engine without one shows none, and the page says why.
      info.labelMap.status !== 'stored'
        ? h('p', { class: 'banner info small', id: 'no-overlay', role: 'note' }, info.labelMap.status === 'none' ? `This engine returned no overlay (${info.labelMap.reason}).` : `No overlay: ${info.labelMap.reason}.`)
        : null,
      viewer ? viewer.panel : keys.nodes,
      !viewer && info.labelMap.status === 'stored'
        ? h('div', { class: 'legend', 'aria-label': 'Overlay legend' }, reportClasses.filter((k) => k.rgb).map((k) => h('span', { style: { '--c': `rgb(${k.rgb.join(',')})` } }, k.label)))
        : null,
      h('p', { class: 'small muted' }, viewer
        ? 'Wheel, arrow keys, Page Up/Down, Home/End or the slider move through the slices; drag with the right button (or with “Drag W/L”) to change window and level. The colours are the engine\'s own class of each voxel (its label map); the shares are of this slice\'s lung, the quantities on the right the engine\'s over the whole volume.'
        : 'Lung window W1500 / L−600. The colours are the engine\'s own class of each voxel (its label map); the numbers are the engine\'s, over the whole volume.'),
    ),
  );
  const decisionPanel = h('section', { class: 'panel', id: 'decision' });
  const right = h('div', { class: 'stack' },
    h('section', { class: 'panel' },
      h('h2', {}, 'Engine result'),
      h('div', { class: 'category', id: 'category' }, CATEGORIES[r.classification.category]),
      h('ul', { class: 'plain', id: 'rationale' }, r.classification.rationale.map((t) => h('li', {}, t))),
      h('p', { class: 'small' }, `${r.engine.name} ${r.engine.version} (${r.engine.vendor}) `,
        h('span', { class: `pill ${research ? 'research' : 'cleared'}`, id: 'regulatory' }, research ? 'Research use only' : `Cleared${r.engine.regulatory.authorization ? ` · ${r.engine.regulatory.authorization}` : ''}`)),
      r.quality.flags.length ? h('p', { class: 'banner info small' }, `Quality: ${r.quality.flags.join('; ')}`) : null,
    ),
    h('section', { class: 'panel' },
      h('h2', {}, 'Quantities (% of lung)'),
      h('dl', { class: 'q', id: 'quantities' },
        row('Fibrosis (reticulation + honeycombing)', `${fibrosis}%`),
        ...reportClasses.filter((k) => k.key !== 'normal').flatMap((k) => row(k.label, `${q.extents[k.key]}%`)),
        row('Lung volume', `${q.lungVolumeMl} mL`), row('Mean lung density', `${q.meanLungDensityHu} HU`),
        row('HAA (−600…−250 HU)', `${q.haaPercent}%`), row('LAA (< −950 HU)', `${q.laa950Percent}%`),
        row('Subpleural fraction of fibrosis', String(q.subpleuralFibrosisFraction))),
      h('h2', { style: { 'margin-top': '14px' } }, 'Fibrosis by zone'),
      h('div', { class: 'zones', id: 'zones' }, zone('Upper', q.zones.upper.fibrosisPercent), zone('Middle', q.zones.middle.fibrosisPercent), zone('Lower', q.zones.lower.fibrosisPercent)),
    ),
    decisionPanel,
  );
  const src = c.source || {};
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/queue' }, '← Queue'), h('span', { class: 'muted small' }, '  ·  Esc to go back, ? for shortcuts')),
    h('h1', {}, `${patientName(c.patient.name)} `, h('span', { class: 'muted small' }, `MRN ${c.patient.id} · born ${c.patient.birthDate} · ${c.patient.sex}`)),
    h('p', { class: 'muted small' }, `Order ${c.order.id} (${c.order.priority}) by ${c.order.orderingProvider.name} · CT of ${day(src.studyDate)} · accession ${src.accessionNumber || '—'} · ${src.sliceCount || '?'} slices, ${src.sliceThicknessMm ?? '?'} mm, ${src.convolutionKernel || 'kernel n/a'} · indications ${c.order.indications.join(', ')}`),
    h('div', { id: 'state' }),
    h('div', { class: 'layout' }, left, right),
  );
  renderDecision(c, decisionPanel);

  const onKey = (e) => {
    if (e.key === 'Escape' && !$('#help').open) { location.hash = '#/queue'; return; }
    // Arrows in a radio group, a range or a text field are that control's; the viewer takes them elsewhere.
    if (e.target.closest('textarea, select, input:not([type=checkbox])') || e.ctrlKey || e.metaKey || e.altKey || $('#help').open) return;
    if (viewer) viewer.onKey(e);
    else keys.onKey(e);
  };
  document.addEventListener('keydown', onKey);
  teardown.push(() => document.removeEventListener('keydown', onKey));
}

/**
 * Without the series (purged after retention) the page shows the report's key images: PNGs rendered by the
 * report worker, fetched with the token (an <img src> cannot send it) and shown as object URLs.
 */
function keyImages(id, r) {
  const urls = [];
  const viewer = h('div', { class: 'viewer', id: 'viewer' }, h('span', { class: 'muted' }, 'Loading key images…'));
  const thumbs = h('div', { class: 'thumbs', role: 'tablist', 'aria-label': 'Key images' });
  const caption = h('p', { class: 'small muted', id: 'caption' });
  let current = 0;
  const show = (i) => {
    if (!urls.length) return;
    current = (i + urls.length) % urls.length;
    const k = r.keyImages[current];
    viewer.replaceChildren(h('img', { src: urls[current], alt: `Key image ${current + 1}: slice ${k ? k.sliceIndex + 1 : ''}, ${k ? k.zone : ''} zone`, id: 'key-image' }));
    caption.textContent = k ? `Image ${current + 1} of ${urls.length} · slice ${k.sliceIndex + 1} · ${k.zone} zone · ${k.reason}` : '';
    [...thumbs.children].forEach((b, j) => b.setAttribute('aria-current', String(j === current)));
  };
  (async () => {
    try {
      const { items } = await api('GET', `/v1/cases/${id}/artifacts`);
      const names = items.map((a) => a.name).filter((n) => /^key-image-\d+\.png$/.test(n)).sort((a, b) => parseInt(a.slice(10)) - parseInt(b.slice(10)));
      for (const n of names) urls.push(URL.createObjectURL(await api('GET', `/v1/cases/${id}/artifacts/${n}`)));
      teardown.push(() => urls.forEach((u) => URL.revokeObjectURL(u)));
      if (!urls.length) return viewer.replaceChildren(h('span', { class: 'muted' }, 'No key images were rendered for this case.'));
      thumbs.replaceChildren(...urls.map((u, j) => h('button', { type: 'button', role: 'tab', 'aria-label': `Key image ${j + 1}`, onclick: () => show(j) }, h('img', { src: u, alt: '' }))));
      show(0);
    } catch (x) {
      if (x.status !== 401) viewer.replaceChildren(h('span', { class: 'error' }, `Key images could not be loaded: ${x.message}`));
    }
  })();
  const onKey = (e) => {
    if (e.key === '[') show(current - 1);
    else if (e.key === ']') show(current + 1);
  };
  return { nodes: [viewer, caption, thumbs], onKey };
}

function stateBanner(c) {
  const el = $('#state');
  if (c.status === 'signed' || c.status === 'billed' || c.status === 'rejected' || c.status === 'reversed') {
    const rv = c.review;
    el.replaceChildren(h('div', { class: `banner ${c.status === 'rejected' || c.status === 'reversed' ? 'bad' : 'signed'}`, id: 'signed', role: 'status' },
      h('strong', {}, rv ? `${rv.decision === 'reject' ? 'Rejected' : rv.decision === 'amend' ? 'Amended and signed' : 'Accepted and signed'} by ${rv.signer.name}` : c.status),
      rv ? ` (NPI ${rv.signer.npi}) on ${when(rv.signedAt)} — ${CATEGORIES[rv.classification.category]}` : ''));
  } else if (c.status === 'in_review' && !holdsIt(c)) {
    el.replaceChildren(h('div', { class: 'banner held', id: 'held', role: 'status' },
      h('strong', {}, `Held by ${c.claim?.userName ?? 'another physician'}`), ` until ${when(c.claim?.expiresAt)}. You can look, but only they can sign until their claim ends.`));
  } else if (c.status === 'in_review') {
    const left = () => Math.max(0, Math.round((Date.parse(c.claim.expiresAt) - Date.now()) / 60000));
    el.replaceChildren(h('div', { class: 'banner info', id: 'mine', role: 'status' }, `You hold this case. Your claim runs for ${left()} more minutes and renews while the page is open. `,
      h('button', { type: 'button', class: 'secondary', id: 'release', onclick: () => release(c) }, 'Release to the queue')));
  } else el.replaceChildren();
}

async function release(c) {
  try {
    await api('POST', `/v1/cases/${c.id}/release`);
    toast('Released: the case is back in the queue.');
    location.hash = '#/queue';
  } catch (x) {
    toast(`Could not release: ${x.message}`, true);
  }
}

function renderDecision(c, panel) {
  stateBanner(c);
  const done = ['signed', 'billed', 'rejected', 'reversed'].includes(c.status);
  if (done) {
    panel.replaceChildren(h('h2', {}, 'Decision'), h('p', {}, c.review?.attestationText || ''), h('div', { class: 'files', id: 'files' }, h('span', { class: 'muted small' }, 'Reports are being written…')));
    sessionStorage.removeItem(draftKey(c.id));
    showFiles(c.id);
    return;
  }
  const mine = c.status === 'in_review' && holdsIt(c);
  const draft = JSON.parse(sessionStorage.getItem(draftKey(c.id)) || '{}');
  const engine = c.result.engine;
  const choice = (value, label, key) =>
    h('label', {}, h('input', { type: 'radio', name: 'decision', value, id: `decision-${value}`, checked: draft.decision === value, disabled: !mine }), label, ' ', h('kbd', {}, key));
  const category = h('select', { id: 'classification', name: 'classification', disabled: !mine },
    Object.entries(CATEGORIES).map(([v, t]) => h('option', { value: v, selected: (draft.category || c.result.classification.category) === v }, t)));
  const comment = h('textarea', { id: 'comment', name: 'comment', maxlength: '4000', disabled: !mine, placeholder: 'Required when you reject; optional otherwise' }, draft.comment || '');
  const attest = h('input', { type: 'checkbox', id: 'attestation', name: 'attestation', disabled: !mine });
  const attestText = h('span', { id: 'attestation-text' });
  const sign = h('button', { type: 'submit', class: 'primary', id: 'sign', disabled: true }, 'Sign ', h('kbd', {}, 'Ctrl+Enter'));
  const problem = h('p', { class: 'error', role: 'alert', id: 'form-error' });
  const amendRow = h('div', { id: 'amend-row' }, h('label', { for: 'classification' }, 'Your classification'), category);
  const form = h('form', { id: 'review-form', novalidate: true },
    h('h2', {}, 'Decision'),
    h('fieldset', {}, h('legend', { class: 'muted small' }, 'Your decision on the engine result'),
      h('div', { class: 'choices' }, choice('accept', 'Accept', '1'), choice('amend', 'Amend', '2'), choice('reject', 'Reject', '3'))),
    amendRow,
    h('label', { for: 'comment' }, 'Comment'), comment,
    h('label', { class: 'attest' }, attest, attestText, ' ', h('kbd', {}, 'a')),
    problem,
    h('div', { class: 'actions' }, sign),
  );
  panel.replaceChildren(form);
  const decision = () => form.querySelector('input[name=decision]:checked')?.value;
  const verb = { accept: 'accept', amend: 'amend', reject: 'reject' };
  const update = () => {
    const d = decision();
    amendRow.hidden = d !== 'amend';
    attestText.textContent = `I have personally reviewed the source chest CT images and the result of ${engine.name} ${engine.version} (${engine.regulatory.status === 'research' ? 'research use only' : 'cleared device'}), and I ${verb[d] || 'accept, amend or reject'} its classification as recorded in this report.`;
    const missing = !d ? 'Choose accept, amend or reject.' : d === 'reject' && !comment.value.trim() ? 'A rejection needs a comment.' : !attest.checked ? 'Tick the attestation to sign.' : '';
    sign.disabled = !mine || !!missing;
    sign.title = missing;
    sessionStorage.setItem(draftKey(c.id), JSON.stringify({ decision: d, category: category.value, comment: comment.value }));
  };
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  update();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (sign.disabled) return;
    const d = decision();
    const body = { decision: d, attestation: true, ...(comment.value.trim() ? { comment: comment.value.trim() } : {}), ...(d === 'amend' ? { classification: { category: category.value, rationale: comment.value.trim() ? [comment.value.trim()] : [] } } : {}) };
    sign.disabled = true;
    sign.textContent = 'Signing…';
    try {
      const r = await api('POST', `/v1/cases/${c.id}/review`, body);
      const next = { ...c, status: r.status, review: r.review, claim: undefined };
      toast(r.status === 'rejected' ? 'Rejected and signed.' : 'Signed.');
      renderDecision(next, panel);
      $('#signed')?.focus?.();
    } catch (x) {
      problem.textContent = x.status === 409 ? `Not signed: ${x.message}` : x.problem?.errors ? x.problem.errors.map((er) => `${er.path}: ${er.message}`).join('; ') : `Not signed: ${x.message}`;
      sign.replaceChildren('Sign ', h('kbd', {}, 'Ctrl+Enter'));
      update();
    }
  });
  const onKey = (e) => {
    if (!mine) return;
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); form.requestSubmit(); return; }
    if (e.target.closest('textarea, select, input[type=text]') || e.ctrlKey || e.metaKey || e.altKey) return;
    const pick = { 1: 'accept', 2: 'amend', 3: 'reject' }[e.key];
    if (pick) { form.querySelector(`#decision-${pick}`).checked = true; update(); if (pick !== 'accept') (pick === 'amend' ? category : comment).focus(); }
    else if (e.key === 'a') { attest.checked = !attest.checked; update(); }
  };
  document.addEventListener('keydown', onKey);
  teardown.push(() => document.removeEventListener('keydown', onKey));

  // Keep the lease while the physician works: renew when less than RENEW_WHEN_MS is left.
  if (mine) {
    const timer = setInterval(async () => {
      if (!c.claim || Date.parse(c.claim.expiresAt) - Date.now() > RENEW_WHEN_MS) return;
      try {
        const r = await api('POST', `/v1/cases/${c.id}/claim`);
        c.claim = r.claim;
        stateBanner(c);
      } catch (x) {
        toast(`Your claim could not be renewed: ${x.message}`, true);
      }
    }, 30_000);
    teardown.push(() => clearInterval(timer));
  }
}

/** After signing: the report files, once the report worker has written them (polled for a short while). */
async function showFiles(id, tries = 20) {
  const box = $('#files');
  if (!box) return;
  try {
    const { items } = await api('GET', `/v1/cases/${id}/artifacts`);
    const wanted = items.filter((a) => ['report.pdf', 'sr-final.dcm', 'report-pdf.dcm', 'diagnostic-report.json'].includes(a.name));
    const ready = items.some((a) => a.name === 'report.pdf');
    box.replaceChildren(...wanted.map((a) => h('a', { href: '#', onclick: (e) => { e.preventDefault(); download(id, a.name); } }, a.name)),
      ready ? '' : h('span', { class: 'muted small' }, 'Reports are being written…'));
    if (!ready && tries > 0) setTimeout(() => showFiles(id, tries - 1), 1500);
  } catch {
    /* the decision is recorded; the files can be fetched later */
  }
}

async function download(id, name) {
  const blob = await api('GET', `/v1/cases/${id}/artifacts/${name}`);
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

document.addEventListener('keydown', (e) => {
  if (e.key === '?' && !e.target.closest('input, textarea, select')) $('#help').showModal();
});
void start();
