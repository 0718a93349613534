// A story: its state at the cut the URL names (?at=…&knownAt=…), replay
// controls on both time axes, what changed, the history, live updates over
// graphql-ws, exports of the cut, and (with a token) the write forms.
'use strict';

const { h } = desk;
const slug = decodeURIComponent(location.pathname.split('/')[2] || '');
const HISTORY_PAGE = 20;
const DAY = 86400000;

const STATE_FIELDS = `title summary status version at knownAt
  developments { id headline summary occurredAt precision reportedInVersion correctedInVersions reportedAt verification
    location { name country latitude longitude }
    actors { name kind role }
    quotes { speaker speakerRole text }
    figures { metric value qualifier unit place claimedBy low high }
    stances { actor target position }
    sources { name url publishedAt kind reportId report { id title } spans { text } }
    tags
    verificationHistory { status note version recordedAt } }
  retracted { id headline reason retractedInVersion }
  actors { name kind mentions firstSeenAt lastSeenAt stances { target position } }
  figures { metric place }
  figureClaims { metric place disputed agreedLow agreedHigh
    claims { value qualifier unit claimedBy low high occurredAt } }
  quotes { speaker speakerRole text occurredAt }`;

const STORY = `query Story($slug: String!, $at: DateTime, $knownAt: DateTime) {
  story(slug: $slug) {
    id slug version createdAt updatedAt visibility embargoUntil
    state: stateAt(at: $at, knownAt: $knownAt) { ${STATE_FIELDS} }
    span: snapshot { developments { occurredAt } }
    notes: history(first: 500, types: ["DevelopmentCorrected", "DevelopmentRetracted"]) { nodes { version payload } }
  }
}`;

const HISTORY = `query History($slug: String!, $first: Int, $after: String, $last: Int, $before: String) {
  story(slug: $slug) { history(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { version type occurredAt recordedAt metadata } } }
}`;

const CHANGES = `query Changes($slug: String!, $from: DateTime!, $to: DateTime!) {
  story(slug: $slug) { changes(from: $from, to: $to) {
    added { headline occurredAt precision }
    figuresChanged { metric place value qualifier claimedBy }
    stancesChanged { actor target position } } }
}`;

/** What the page shows now. */
const view = {
  story: null,
  at: null,
  knownAt: null,
  /** Reasons of corrections and retractions, by the version that made them. */
  reasons: new Map(),
  unseenEvents: 0,
};

function cutFromUrl() {
  const params = new URLSearchParams(location.search);
  view.at = params.get('at');
  view.knownAt = params.get('knownAt');
}

function cutQuery() {
  const params = new URLSearchParams();
  if (view.at) params.set('at', view.at);
  if (view.knownAt) params.set('knownAt', view.knownAt);
  const text = params.toString();
  return text ? '?' + text : '';
}

function isLive() {
  return !view.at && !view.knownAt;
}

/** Moves to another cut: the URL first, so that it can be shared. */
function goTo(at, knownAt) {
  view.at = at || null;
  view.knownAt = knownAt || null;
  history.pushState(null, '', location.pathname + cutQuery());
  load().then(() => loadHistory({ first: HISTORY_PAGE }));
}

async function load() {
  const { data, errors } = await desk.gql(STORY, { slug, at: view.at, knownAt: view.knownAt });
  if (errors.length) return showLoadError(errors);
  if (!data.story) {
    document.getElementById('story-head').replaceChildren(
      h('h1', {}, 'No such story'),
      h('p', { class: 'muted' }, desk.token()
        ? `There is no story “${slug}”.`
        : `There is no public story “${slug}”. An unpublished one needs a token.`));
    return;
  }
  view.story = data.story;
  view.reasons = new Map(data.story.notes.nodes.map((e) => [e.version, e.payload.reason]));
  view.unseenEvents = 0;
  render();
}

function showLoadError(errors) {
  document.getElementById('story-head').replaceChildren(
    h('h1', {}, 'The story could not be read'),
    h('p', { class: 'error' }, `${errors[0].message} (${desk.code(errors)})`));
}

function render() {
  const story = view.story;
  const state = story.state;
  document.title = `${state.title || story.slug} · storyline`;
  renderHead(story, state);
  renderCut(story);
  renderTimeline(state);
  renderFigures(state);
  renderActors(state);
  renderQuotes(state);
  renderExports();
  renderWrite(state);
}

function renderHead(story, state) {
  document.getElementById('story-head').replaceChildren(
    h('p', { class: 'meta' },
      h('span', { class: 'badge status', id: 'story-status' }, state.status), ' ',
      story.visibility === 'INTERNAL'
        ? h('span', { class: 'badge internal' }, story.embargoUntil ? `embargoed until ${desk.when(story.embargoUntil)}` : 'internal')
        : null,
      isLive()
        ? ` version ${state.version} · opened ${desk.when(story.createdAt)} · updated ${desk.when(story.updatedAt)}`
        : ` ${pastCutText()} · ${view.knownAt ? `version ${state.version} then, ${story.version} now` : `version ${story.version}`}`),
    h('h1', { id: 'story-title' }, state.title || story.slug),
    state.summary ? h('p', { class: 'summary' }, state.summary) : null);
}

/** The two sliders run over days: world time from the first development
 *  to the last, transaction time from the story's opening to its last event. */
function renderCut(story) {
  const occurred = story.span.developments.map((d) => Date.parse(d.occurredAt));
  const worldFrom = occurred.length ? Math.min(...occurred) : Date.parse(story.createdAt);
  const worldTo = occurred.length ? Math.max(...occurred) : Date.parse(story.updatedAt);
  mountAxis('at', worldFrom, worldTo, DAY, view.at, (value) => goTo(value, view.knownAt));
  mountAxis('known', Date.parse(story.createdAt), Date.parse(story.updatedAt), 1000, view.knownAt, (value) => goTo(view.at, value));

  const banner = document.getElementById('cut-banner');
  banner.replaceChildren();
  if (isLive()) {
    banner.className = 'cut-banner live';
    banner.append('Live: the story as known now. New reports appear as they are recorded.');
  } else {
    banner.className = 'cut-banner past';
    banner.append(`Showing a past cut: the story ${pastCutText()}. Not live.`);
  }
  if (view.unseenEvents) {
    banner.append(h('div', { class: 'new-events', id: 'new-events' },
      `${view.unseenEvents} new event${view.unseenEvents > 1 ? 's' : ''} since this page loaded. `,
      h('a', { href: location.pathname, onclick: (e) => { e.preventDefault(); goTo(null, null); } }, 'Back to live')));
  }
}

function mountAxis(name, from, to, step, current, onPick) {
  const slider = document.getElementById(`${name}-slider`);
  const input = document.getElementById(`${name}-input`);
  const label = document.getElementById(`${name}-label`);
  const steps = Math.max(1, Math.ceil((to - from) / step));
  slider.min = 0;
  slider.max = steps + 1; // the last step is "no cut"
  const position = current ? Math.min(steps, Math.max(0, Math.round((Date.parse(current) - from) / step))) : steps + 1;
  slider.value = position;
  input.value = desk.toInput(current);
  label.textContent = current ? '' : 'no cut';
  const valueAt = (p) => (Number(p) > steps ? null : new Date(from + Number(p) * step).toISOString().replace('.000Z', 'Z'));
  slider.oninput = () => { const v = valueAt(slider.value); label.textContent = v ? desk.when(v, step === DAY ? 'DAY' : 'INSTANT') : 'no cut'; };
  slider.onchange = () => onPick(valueAt(slider.value));
  input.onchange = () => { const v = desk.readTime(input); if (v !== undefined) onPick(v); };
}

/** "as known on 12 Jul 2021, 12:00 UTC, as it stood on …" for a past cut. */
function pastCutText() {
  const parts = [];
  if (view.knownAt) parts.push(`as known on ${desk.when(view.knownAt)}`);
  if (view.at) parts.push(`as it stood on ${desk.when(view.at)}`);
  return parts.join(', ');
}

function verdictBadge(status) {
  return h('span', { class: `badge v-${status}`, title: 'verdict' }, status.toLowerCase());
}

function figureText(f) {
  const qualifiers = { EXACT: '', AT_LEAST: 'at least ', MORE_THAN: 'more than ', ABOUT: 'about ', UP_TO: 'up to ', FEWER_THAN: 'fewer than ' };
  const range = f.low !== null && f.low !== undefined || f.high !== null && f.high !== undefined
    ? ` (${f.low ?? '…'}–${f.high ?? '…'})` : '';
  return `${qualifiers[f.qualifier] || ''}${f.value.toLocaleString('en-GB')}${range}${f.unit ? ' ' + f.unit : ''}`;
}

function renderTimeline(state) {
  const timeline = document.getElementById('timeline');
  timeline.replaceChildren(...state.developments.map((d) => h('li', { class: d.verification === 'FALSE' ? 'false' : null, 'data-development': d.id, id: `development-${d.id}` },
    h('div', { class: 'when' }, desk.when(d.occurredAt, d.precision), ' ', verdictBadge(d.verification)),
    h('h3', {}, d.headline),
    d.summary ? h('p', {}, d.summary) : null,
    d.location ? h('p', { class: 'detail' }, desk.placeName(d.location)) : null,
    d.actors.length ? h('ul', { class: 'chips' }, d.actors.map((a) => h('li', {}, a.name))) : null,
    d.figures.map((f) => h('p', { class: 'detail' }, `${f.metric}${f.place ? ' in ' + f.place : ''}: ${figureText(f)}`, f.claimedBy ? ` — ${f.claimedBy}` : ' — unattributed')),
    d.quotes.map((q) => h('blockquote', {}, `“${q.text}”`, h('footer', {}, '— ', q.speaker, q.speakerRole ? `, ${q.speakerRole}` : ''))),
    d.correctedInVersions.map((v) => h('p', { class: 'correction' }, `Corrected in version ${v}: `, view.reasons.get(v) || '')),
    d.sources.length ? h('p', { class: 'sources' }, 'Sources: ', d.sources.map((s, i) => [
      i ? '; ' : '',
      desk.isWebUrl(s.url) ? h('a', { href: s.url, rel: 'noopener noreferrer' }, s.name) : s.name,
      s.kind ? ` (${s.kind.toLowerCase().replace('_', ' ')})` : '',
      // A cited report (with a token): a link to its review, and the passages.
      s.report ? [' — ', h('a', { href: `/reports/${s.report.id}`, class: 'cited-report' }, s.report.title || 'the report')] : ''])) : null,
    d.sources.flatMap((s) => (s.report ? s.spans : []))
      .map((span) => h('blockquote', { class: 'source-passage' }, span.text)),
    d.verificationHistory.length ? h('details', { class: 'verdicts' }, h('summary', {}, 'Verdicts'),
      h('ul', {}, d.verificationHistory.map((v) => h('li', {}, verdictBadge(v.status), ` version ${v.version}, ${desk.when(v.recordedAt)}`, v.note ? ` — ${v.note}` : '')))) : null,
    h('p', { class: 'detail' }, `Reported in version ${d.reportedInVersion}, ${desk.when(d.reportedAt)}`))));
  if (!state.developments.length) timeline.append(h('li', { class: 'muted' }, 'Nothing had happened by this cut.'));
  const retracted = document.getElementById('retracted');
  retracted.replaceChildren();
  if (state.retracted.length) {
    retracted.append(h('section', { class: 'retracted' }, h('h2', {}, 'Retracted'),
      h('ul', {}, state.retracted.map((r) => h('li', {}, h('s', {}, r.headline), ` — retracted in version ${r.retractedInVersion}: ${r.reason}`)))));
  }
}

function renderFigures(state) {
  chart.render(document.getElementById('figures-chart'), state);
  storyMap.render(document.getElementById('map'), state);
  const figures = document.getElementById('figures');
  figures.replaceChildren(...state.figureClaims.map((group) => h('div', { class: `figure-group${group.disputed ? ' disputed' : ''}` },
    h('h3', {}, group.metric, group.place ? ` · ${group.place}` : '', ' ', group.disputed ? h('span', { class: 'badge disputed' }, 'disputed') : null),
    h('div', { class: 'claims' }, group.claims.map((c) => h('div', { class: 'claim' },
      h('div', { class: 'value' }, figureText(c)),
      h('div', { class: 'who' }, c.claimedBy || 'unattributed', ', ', desk.when(c.occurredAt, 'DAY'))))),
    !group.disputed && group.claims.length > 1
      ? h('p', { class: 'agreed' }, `All claims admit ${group.agreedLow ?? '…'}–${group.agreedHigh ?? '…'}`)
      : null)));
  if (!state.figureClaims.length) figures.append(h('p', { class: 'muted' }, 'No figures.'));
}

function renderActors(state) {
  const actors = document.getElementById('actors');
  actors.replaceChildren(...state.actors.map((a) => h('li', {},
    h('span', { class: 'mentions' }, `${a.mentions} mention${a.mentions > 1 ? 's' : ''}`),
    h('strong', {}, a.name), h('small', {}, ` ${a.kind.toLowerCase()}`),
    a.stances.length ? h('div', { class: 'detail' }, a.stances.map((s) => `${s.position.toLowerCase()} ${s.target}`).join('; ')) : null)));
}

function renderQuotes(state) {
  const quotes = document.getElementById('quotes');
  quotes.replaceChildren(...state.quotes.map((q) => h('blockquote', {}, `“${q.text}”`,
    h('footer', {}, '— ', q.speaker, q.speakerRole ? `, ${q.speakerRole}` : '', `, ${desk.when(q.occurredAt, 'DAY')}`))));
  if (!state.quotes.length) quotes.append(h('p', { class: 'muted' }, 'No quotes.'));
}

function renderExports() {
  const base = `/stories/${encodeURIComponent(slug)}/`;
  for (const [id, file] of [['export-timeline', 'timeline.json'], ['export-csv', 'developments.csv'], ['export-geojson', 'developments.geojson']]) {
    const link = document.getElementById(id);
    link.href = base + file + cutQuery();
    // With a token the file is fetched with it (a link cannot carry one).
    link.onclick = async (event) => {
      if (!desk.token()) return;
      event.preventDefault();
      const response = await fetch(link.href, { headers: { authorization: 'Bearer ' + desk.token() } });
      const url = URL.createObjectURL(await response.blob());
      const save = h('a', { href: url, download: file });
      document.body.append(save);
      save.click();
      save.remove();
      URL.revokeObjectURL(url);
    };
  }
}

async function loadHistory(args) {
  const { data, errors } = await desk.gql(HISTORY, { slug, ...args });
  const body = document.querySelector('#history tbody');
  if (errors.length || !data.story) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'error' }, errors.length ? errors[0].message : 'No history.')));
    return;
  }
  const page = data.story.history;
  // At a known-by cut, what was recorded later is not shown: it was not
  // known then (recording times follow versions, so it is the page's end).
  const known = page.nodes.filter((e) => !view.knownAt || Date.parse(e.recordedAt) <= Date.parse(view.knownAt));
  body.replaceChildren(...known.map((e) => h('tr', {},
    h('td', {}, e.version), h('td', { 'data-type': e.type }, desk.eventName(e.type)),
    // Only a report's occurredAt is a time in the world; the others' is
    // when they were recorded.
    h('td', {}, e.type === 'DevelopmentReported' ? desk.when(e.occurredAt) : ''),
    h('td', {}, desk.when(e.recordedAt)),
    h('td', {}, (e.metadata && e.metadata.principal) || ''))));
  const next = document.getElementById('history-next');
  const previous = document.getElementById('history-previous');
  next.disabled = !page.pageInfo.hasNextPage || known.length < page.nodes.length;
  previous.disabled = !page.pageInfo.hasPreviousPage;
  next.onclick = () => loadHistory({ first: HISTORY_PAGE, after: page.pageInfo.endCursor });
  previous.onclick = () => loadHistory({ last: HISTORY_PAGE, before: page.pageInfo.startCursor });
}

document.getElementById('changes-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const out = document.getElementById('changes');
  const from = desk.readTime(form.from);
  const to = desk.readTime(form.to);
  if (!from || !to) return;
  const { data, errors } = await desk.gql(CHANGES, { slug, from, to });
  if (errors.length) { out.replaceChildren(h('p', { class: 'error' }, `${errors[0].message} (${desk.code(errors)})`)); return; }
  const changes = data.story.changes;
  out.replaceChildren(
    h('h3', {}, `${changes.added.length} new development${changes.added.length === 1 ? '' : 's'}`),
    h('ul', {}, changes.added.map((d) => h('li', {}, desk.when(d.occurredAt, d.precision), ': ', d.headline))),
    h('h3', {}, 'Figures changed'),
    h('ul', {}, changes.figuresChanged.map((f) => h('li', {}, `${f.metric}${f.place ? ' in ' + f.place : ''}: ${figureText(f)}`, f.claimedBy ? ` (${f.claimedBy})` : ''))),
    h('h3', {}, 'New stances'),
    h('ul', {}, changes.stancesChanged.map((s) => h('li', {}, `${s.actor} ${s.position.toLowerCase()} ${s.target}`))));
});

// ---- Writing -------------------------------------------------------------

const APPEND_RESULT = 'story { version } events { version type } readAfter';
const MUTATIONS = {
  report: `mutation($story: UUID!, $v: Int, $input: DevelopmentInput!) { reportDevelopment(storyId: $story, expectedVersion: $v, input: $input) { ${APPEND_RESULT} } }`,
  correct: `mutation($story: UUID!, $v: Int, $d: UUID!, $changes: DevelopmentPatch!, $reason: String!) { correctDevelopment(storyId: $story, expectedVersion: $v, developmentId: $d, changes: $changes, reason: $reason) { ${APPEND_RESULT} } }`,
  retract: `mutation($story: UUID!, $v: Int, $d: UUID!, $reason: String!) { retractDevelopment(storyId: $story, expectedVersion: $v, developmentId: $d, reason: $reason) { ${APPEND_RESULT} } }`,
  verdict: `mutation($story: UUID!, $v: Int, $d: UUID!, $status: VerificationStatus!, $note: String) { setVerification(storyId: $story, expectedVersion: $v, developmentId: $d, status: $status, note: $note) { ${APPEND_RESULT} } }`,
  status: `mutation($story: UUID!, $v: Int, $status: StoryStatus!, $reason: String) { setStoryStatus(storyId: $story, expectedVersion: $v, status: $status, reason: $reason) { ${APPEND_RESULT} } }`,
};

function renderWrite(state) {
  const write = document.getElementById('write');
  write.hidden = !desk.token();
  for (const picker of document.querySelectorAll('.development-picker')) {
    const chosen = picker.value;
    picker.replaceChildren(...state.developments.map((d) => h('option', { value: d.id }, `${desk.when(d.occurredAt, d.precision)} — ${d.headline}`)));
    if (chosen) picker.value = chosen;
  }
}

function say(kind, ...content) {
  const error = document.getElementById('write-error');
  const ok = document.getElementById('write-ok');
  error.hidden = kind !== 'error';
  ok.hidden = kind !== 'ok';
  (kind === 'error' ? error : ok).replaceChildren(...content);
}

/** Sends a mutation at the version the page shows; a conflict offers to
 *  reload rather than overwrite what someone else appended. */
async function send(name, variables) {
  const { data, errors } = await desk.gql(MUTATIONS[name], { story: view.story.id, v: view.story.version, ...variables });
  const code = desk.code(errors);
  if (code === 'VERSION_CONFLICT') {
    const actual = errors[0].extensions.actualVersion;
    say('error', `Someone else changed the story meanwhile (it is at version ${actual}, this page shows ${view.story.version}). `,
      h('button', { type: 'button', id: 'reload', onclick: () => { say('none'); load(); } }, 'Reload the story'));
    return false;
  }
  if (code) {
    say('error', `${errors[0].message} (${code})`);
    return false;
  }
  const result = Object.values(data)[0];
  // The next reads ask for a replica that has this write (DESIGN §13).
  desk.rememberWrite(result.readAfter);
  say('ok', `Recorded: ${result.events.map((e) => e.type).join(', ')} — the story is at version ${result.story.version}.`);
  await load();
  return true;
}

function optional(value) {
  const text = (value || '').trim();
  return text ? text : undefined;
}

document.getElementById('report-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target;
  const input = {
    headline: f.headline.value,
    summary: optional(f.summary.value),
    occurredAt: desk.readTime(f.occurredAt),
    precision: f.precision.value,
    verification: f.verification.value,
  };
  if (!input.occurredAt) return;
  if (optional(f.location.value)) input.location = { name: f.location.value.trim() };
  const actors = f.actors.value.split(',').map((a) => a.trim()).filter(Boolean);
  if (actors.length) input.actors = actors.map((a) => { const [name, kind] = a.split(':'); return { name: name.trim(), kind: (kind || 'OTHER').trim().toUpperCase() }; });
  if (optional(f.metric.value) && f.value.value !== '') {
    input.figures = [{ metric: f.metric.value.trim(), value: Number(f.value.value), qualifier: f.qualifier.value, claimedBy: optional(f.claimedBy.value) }];
  }
  if (optional(f.sourceName.value)) input.sources = [{ name: f.sourceName.value.trim(), url: optional(f.sourceUrl.value) }];
  if (await send('report', { input })) f.reset();
});

document.getElementById('correct-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target;
  const changes = {};
  if (optional(f.headline.value)) changes.headline = f.headline.value.trim();
  if (optional(f.summary.value)) changes.summary = f.summary.value.trim();
  if (f.occurredAt.value) {
    changes.occurredAt = desk.readTime(f.occurredAt);
    if (!changes.occurredAt) return;
  }
  if (await send('correct', { d: f.developmentId.value, changes, reason: f.reason.value })) f.reset();
});

document.getElementById('retract-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target;
  if (await send('retract', { d: f.developmentId.value, reason: f.reason.value })) f.reset();
});

document.getElementById('verdict-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target;
  if (await send('verdict', { d: f.developmentId.value, status: f.status.value, note: optional(f.note.value) })) f.reset();
});

document.getElementById('status-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target;
  await send('status', { status: f.status.value, reason: optional(f.reason.value) });
});

// ---- Live ----------------------------------------------------------------

let live = null;

/** Follows the story's events; live, each reloads the page's state; at a
 *  past cut, each is counted and offered. */
function follow() {
  if (live) live.dispose();
  if (!view.story || typeof graphqlWs === 'undefined') return;
  const url = location.origin.replace(/^http/, 'ws') + '/graphql';
  const token = desk.token();
  live = graphqlWs.createClient({ url, connectionParams: token ? { token } : {}, retryAttempts: Infinity });
  live.subscribe({ query: 'subscription($story: UUID) { events(storyId: $story) { version type } }', variables: { story: view.story.id } }, {
    next: () => {
      if (isLive()) load().then(() => loadHistory({ first: HISTORY_PAGE }));
      else { view.unseenEvents += 1; renderCut(view.story); }
    },
    error: () => {},
    complete: () => {},
  });
}

document.getElementById('back-to-live').addEventListener('click', () => goTo(null, null));
window.addEventListener('popstate', () => { cutFromUrl(); load().then(() => loadHistory({ first: HISTORY_PAGE })); });

desk.mountTokenPanel(async () => { await load(); loadHistory({ first: HISTORY_PAGE }); follow(); });
cutFromUrl();
load().then(() => { loadHistory({ first: HISTORY_PAGE }); follow(); });
