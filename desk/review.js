// A report under review: its text with every mention highlighted by kind
// (hover or focus one to see what it resolved to), its drafts as editable
// forms beside it, a story picker (the suggested stories with their
// reasons, any other by slug, or a new one), "Add to story" citing the
// report with the draft's passages, and "Dismiss". Keyboard: j and k move
// between drafts, a adds the focused one, Ctrl-Enter inside a draft too.
'use strict';

const MENTION_FIELDS = `kind span { start end text } date precision
  quote { speaker speakerRole text } figure { metric value qualifier unit place claimedBy low high }
  location { name country latitude longitude } actor { name kind role }`;
const REPORT = `query Review($id: UUID!) { report(id: $id) {
  id title publisher sourceKind url byline dateline publishedAt receivedAt format status dismissedReason feed text
  mentions { ${MENTION_FIELDS} }
  drafts { headline summary occurredAt precision
    location { name country latitude longitude } actors { name kind role }
    quotes { speaker speakerRole text } figures { metric value qualifier unit place claimedBy low high }
    sources { name url publishedAt kind reportId spans { start end } }
    evidence { kind span { start end } } }
  suggestedStories(first: 5) { score reasons story { id slug version snapshot { title } } }
  citedBy { developmentId reportedInVersion story { slug snapshot { title } } }
} }`;
const STORY_BY_SLUG = 'query($slug: String!) { story(slug: $slug) { id slug version snapshot { title } } }';
const OPEN = `mutation($input: OpenStoryInput!) { openStory(input: $input) { story { id slug version } readAfter } }`;
const ADD = `mutation($story: UUID!, $v: Int, $input: DevelopmentInput!) {
  reportDevelopment(storyId: $story, expectedVersion: $v, input: $input) { story { id slug version } readAfter } }`;
const DISMISS = 'mutation($r: UUID!, $reason: String!) { dismissReport(reportId: $r, reason: $reason) { status dismissedReason } }';

const { h } = desk;
const reportId = decodeURIComponent(location.pathname.split('/')[2] || '');
const view = { report: null, focused: 0 };

/** What a mention resolved to, in words. */
function describe(m) {
  const said = `“${m.span.text}” → `;
  switch (m.kind) {
    case 'DATE': return said + `${desk.when(m.date, m.precision)}, ${m.precision}`;
    case 'FIGURE': {
      const f = m.figure;
      const signs = { EXACT: '', AT_LEAST: '≥ ', MORE_THAN: '> ', ABOUT: '≈ ', UP_TO: '≤ ', FEWER_THAN: '< ' };
      return said + [`${f.metric} ${signs[f.qualifier] || ''}${f.value}${f.unit ? ' ' + f.unit : ''}`, f.place, f.claimedBy ? `claimed by ${f.claimedBy}` : null].filter(Boolean).join(', ');
    }
    case 'QUOTE': return `Quote by ${m.quote.speaker}${m.quote.speakerRole ? ', ' + m.quote.speakerRole : ''}`;
    case 'PLACE': {
      const l = m.location;
      const at = l.latitude !== null && l.longitude !== null ? ` (${l.latitude.toFixed(2)}, ${l.longitude.toFixed(2)})` : '';
      return said + desk.placeName(l) + at;
    }
    case 'ACTOR': return said + `${m.actor.name} (${m.actor.kind.toLowerCase()})`;
    default: return said;
  }
}

/** The report's text with its mentions as nested <mark>s. Spans count
 *  code points; a mention that crosses another's end is cut there. */
function renderText(report) {
  const chars = Array.from(report.text);
  const mentions = report.mentions
    .map((m, index) => ({ m, index, start: m.span.start, end: Math.min(m.span.end, chars.length) }))
    .filter((x) => x.start < x.end)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const slice = (from, to) => chars.slice(from, to).join('');
  function build(from, to, candidates) {
    const nodes = [];
    let cursor = from;
    let rest = candidates;
    while (rest.length) {
      const [first, ...others] = rest;
      const start = Math.max(first.start, cursor);
      const end = Math.min(first.end, to);
      if (start >= end) { rest = others; continue; }
      if (start > cursor) nodes.push(slice(cursor, start));
      const inner = others.filter((x) => x.start < end);
      rest = others.filter((x) => x.start >= end || x.end > end).map((x) => (x.start < end ? { ...x, start: end } : x));
      const mark = h('mark', { 'data-kind': first.m.kind, 'data-mention': first.index, tabindex: 0, title: describe(first.m) },
        ...build(start, end, inner.map((x) => ({ ...x, end: Math.min(x.end, end) }))));
      nodes.push(mark);
      cursor = end;
    }
    if (cursor < to) nodes.push(slice(cursor, to));
    return nodes;
  }
  const article = document.getElementById('report-text');
  const paragraphs = [];
  // Paragraphs by blank lines, keeping code point offsets.
  let start = 0;
  const text = chars;
  for (let i = 0; i <= text.length; i += 1) {
    const atBreak = i === text.length || (text[i] === '\n' && text[i + 1] === '\n');
    if (!atBreak) continue;
    const inside = mentions.filter((x) => x.start < i && x.end > start).map((x) => ({ ...x, start: Math.max(x.start, start), end: Math.min(x.end, i) }));
    if (i > start) paragraphs.push(h('p', {}, ...build(start, i, inside)));
    start = i + 2;
    i += 1;
  }
  article.replaceChildren(...paragraphs);
  const detail = document.getElementById('mention-detail');
  const show = (event) => {
    const mark = event.target.closest('mark');
    if (mark) detail.textContent = mark.title;
  };
  article.onmouseover = show;
  // (There is no onfocusin property in every browser.)
  if (!article.dataset.listening) {
    article.addEventListener('focusin', show);
    article.dataset.listening = 'yes';
  }
}

function headOf(report) {
  const cited = report.citedBy.map((c) => h('li', {}, 'Added to ',
    h('a', { href: `/stories/${encodeURIComponent(c.story.slug)}` }, c.story.snapshot.title),
    ` (version ${c.reportedInVersion})`));
  return [
    h('p', { class: 'meta' },
      h('span', { class: `badge report-${report.status.toLowerCase()}`, id: 'report-status' }, report.status.toLowerCase()), ' ',
      [report.publisher, report.sourceKind && report.sourceKind.toLowerCase().replace('_', ' '), report.feed && `feed ${report.feed}`,
        report.publishedAt && `published ${desk.when(report.publishedAt)}`, `received ${desk.when(report.receivedAt)}`].filter(Boolean).join(' · ')),
    h('h1', {}, report.title || (report.publisher ? `Report from ${report.publisher}` : 'Untitled report')),
    report.byline || report.dateline ? h('p', { class: 'muted' }, [report.byline, report.dateline].filter(Boolean).join(' — ')) : null,
    desk.isWebUrl(report.url) ? h('p', {}, h('a', { href: report.url, rel: 'noopener noreferrer' }, report.url)) : null,
    report.status === 'DISMISSED' ? h('p', { class: 'error' }, `Dismissed: ${report.dismissedReason || ''}`) : null,
    cited.length ? h('ul', { class: 'cited-by', id: 'cited-by' }, ...cited) : null,
  ];
}

/** The story picker of a draft: the suggestions, another by slug, or a
 *  new story. */
function storyPicker(report, n) {
  const options = report.suggestedStories.map((s, i) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: `story-${n}`, value: `id:${s.story.id}`, checked: i === 0 ? '' : null, 'data-version': s.story.version }),
    ` ${s.story.snapshot.title} `, h('span', { class: 'muted' }, `${Math.round(s.score * 100)} % · ${s.reasons.join('; ')}`)));
  return h('fieldset', { class: 'story-picker' }, h('legend', {}, 'Add to'),
    ...options,
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: `story-${n}`, value: 'slug', checked: options.length ? null : '' }),
      ' another story, by slug ', h('input', { name: 'slug', class: 'inline', placeholder: 'kabul-airport-2021' })),
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: `story-${n}`, value: 'new' }),
      ' a new story titled ', h('input', { name: 'newTitle', class: 'inline' })));
}

function quoteRow(q = { speaker: '', speakerRole: '', text: '' }) {
  return h('div', { class: 'row quote-row' },
    h('label', {}, 'Speaker', h('input', { name: 'q-speaker', value: q.speaker })),
    h('label', {}, 'Role', h('input', { name: 'q-role', value: q.speakerRole || '' })),
    h('label', { class: 'wide' }, 'Quote', h('input', { name: 'q-text', value: q.text })),
    h('button', { type: 'button', class: 'secondary remove', onclick: (e) => e.target.closest('.row').remove() }, 'Remove'));
}

function figureRow(f = { metric: '', value: '', qualifier: 'EXACT', place: '', claimedBy: '' }) {
  const qualifiers = ['EXACT', 'AT_LEAST', 'MORE_THAN', 'ABOUT', 'UP_TO', 'FEWER_THAN'];
  return h('div', { class: 'row figure-row' },
    h('label', {}, 'Metric', h('input', { name: 'f-metric', value: f.metric })),
    h('label', {}, 'Value', h('input', { name: 'f-value', type: 'number', step: 'any', value: f.value })),
    h('label', {}, 'Qualifier', h('select', { name: 'f-qualifier' }, ...qualifiers.map((q) => h('option', { selected: q === f.qualifier ? '' : null }, q)))),
    h('label', {}, 'Place', h('input', { name: 'f-place', value: f.place || '' })),
    h('label', {}, 'Claimed by', h('input', { name: 'f-claimedBy', value: f.claimedBy || '' })),
    h('button', { type: 'button', class: 'secondary remove', onclick: (e) => e.target.closest('.row').remove() }, 'Remove'));
}

function draftForm(report, draft, n) {
  const precisions = ['INSTANT', 'DAY', 'MONTH', 'YEAR'];
  const quotes = h('div', { class: 'quotes' }, ...draft.quotes.map(quoteRow));
  const figures = h('div', { class: 'figures' }, ...draft.figures.map(figureRow));
  const form = h('form', { class: 'draft write-form', 'data-draft': n, tabindex: -1 },
    h('h3', {}, `Draft ${n + 1}`),
    h('label', {}, 'Headline', h('input', { name: 'headline', value: draft.headline, required: '' })),
    h('label', {}, 'Summary', h('textarea', { name: 'summary', rows: 2 }, draft.summary || '')),
    h('div', { class: 'row' },
      h('label', {}, 'Occurred', h('input', { name: 'occurredAt', class: 'utc-time', value: desk.toInput(draft.occurredAt), required: '' }), h('small', {}, 'UTC')),
      h('label', {}, 'Precision', h('select', { name: 'precision' }, ...precisions.map((p) => h('option', { selected: p === draft.precision ? '' : null }, p)))),
      h('label', {}, 'Place', h('input', { name: 'place', value: draft.location ? draft.location.name : '' }))),
    h('label', {}, 'Actors', h('input', { name: 'actors', value: draft.actors.map((a) => `${a.name}:${a.kind}`).join(', '), placeholder: 'Name:KIND, Name:KIND' })),
    h('h4', {}, 'Quotes'), quotes,
    h('button', { type: 'button', class: 'secondary add-quote', onclick: () => quotes.append(quoteRow()) }, 'Add a quote'),
    h('h4', {}, 'Figures'), figures,
    h('button', { type: 'button', class: 'secondary add-figure', onclick: () => figures.append(figureRow()) }, 'Add a figure'),
    storyPicker(report, n),
    h('div', { class: 'draft-outcome', role: 'status' }),
    h('button', { type: 'submit', class: 'add-to-story' }, 'Add to story'));
  form.addEventListener('focusin', () => markEvidence(draft, n));
  form.addEventListener('click', () => markEvidence(draft, n));
  form.addEventListener('submit', (event) => { event.preventDefault(); addToStory(form, draft); });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); addToStory(form, draft); }
  });
  return form;
}

/** Marks a draft's evidence in the text. */
function markEvidence(draft, n) {
  view.focused = n;
  document.querySelectorAll('.draft').forEach((d) => d.classList.toggle('focused', Number(d.dataset.draft) === n));
  const wanted = new Set(draft.evidence.map((m) => `${m.kind}:${m.span.start}:${m.span.end}`));
  let first = null;
  document.querySelectorAll('#report-text mark').forEach((mark) => {
    const m = view.report.mentions[Number(mark.dataset.mention)];
    const hit = wanted.has(`${m.kind}:${m.span.start}:${m.span.end}`);
    mark.classList.toggle('evidence', hit);
    if (hit && !first) first = mark;
  });
  if (first) first.scrollIntoView({ block: 'nearest' });
}

/** The development input the form holds, citing the report. */
function inputOf(form, draft) {
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : '');
  const occurredAt = desk.readTime(form.elements.occurredAt);
  if (!occurredAt) return null;
  const rows = (selector) => Array.from(form.querySelectorAll(selector));
  const text = (row, name) => row.querySelector(`[name=${name}]`).value.trim();
  const input = {
    headline: value('headline'),
    summary: value('summary') || undefined,
    occurredAt,
    precision: value('precision'),
    sources: draft.sources.map((s) => ({ name: s.name, url: s.url || undefined, publishedAt: s.publishedAt || undefined,
      kind: s.kind || undefined, reportId: s.reportId, spans: s.spans.map((sp) => ({ start: sp.start, end: sp.end })) })),
    quotes: rows('.quote-row').filter((r) => text(r, 'q-speaker') && text(r, 'q-text'))
      .map((r) => ({ speaker: text(r, 'q-speaker'), speakerRole: text(r, 'q-role') || undefined, text: text(r, 'q-text') })),
    figures: rows('.figure-row').filter((r) => text(r, 'f-metric') && text(r, 'f-value') !== '')
      .map((r) => ({ metric: text(r, 'f-metric'), value: Number(text(r, 'f-value')), qualifier: text(r, 'f-qualifier'),
        place: text(r, 'f-place') || undefined, claimedBy: text(r, 'f-claimedBy') || undefined })),
  };
  const place = value('place');
  if (place) {
    const same = draft.location && draft.location.name === place;
    input.location = same
      ? { name: place, country: draft.location.country || undefined, latitude: draft.location.latitude ?? undefined, longitude: draft.location.longitude ?? undefined }
      : { name: place };
  }
  const actors = value('actors').split(',').map((a) => a.trim()).filter(Boolean)
    .map((a) => { const [name, kind] = a.split(':'); return { name: name.trim(), kind: (kind || 'OTHER').trim().toUpperCase() }; });
  if (actors.length) input.actors = actors;
  return input;
}

/** The story the picker names: {id, version}, opened first when new. */
async function pickedStory(form, n) {
  const choice = form.querySelector(`input[name="story-${n}"]:checked`);
  if (!choice) return { error: 'Pick a story.' };
  if (choice.value.startsWith('id:')) return { id: choice.value.slice(3), version: Number(choice.dataset.version) };
  if (choice.value === 'slug') {
    const slug = form.elements.slug.value.trim();
    const { data, errors } = await desk.gql(STORY_BY_SLUG, { slug });
    if (errors.length) return { error: `${errors[0].message} (${desk.code(errors)})` };
    if (!data.story) return { error: `No story has the slug “${slug}”.` };
    return { id: data.story.id, version: data.story.version };
  }
  const title = form.elements.newTitle.value.trim();
  if (!title) return { error: 'Give the new story a title.' };
  const slug = title.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'story';
  const { data, errors } = await desk.gql(OPEN, { input: { slug: `${slug}-${Date.now().toString(36)}`, title } });
  if (errors.length) return { error: `${errors[0].message} (${desk.code(errors)})` };
  desk.rememberWrite(data.openStory.readAfter);
  return { id: data.openStory.story.id, version: data.openStory.story.version };
}

async function addToStory(form, draft, expected) {
  const n = Number(form.dataset.draft);
  const outcome = form.querySelector('.draft-outcome');
  const input = inputOf(form, draft);
  if (!input) return;
  const story = expected || (await pickedStory(form, n));
  if (story.error) { outcome.replaceChildren(h('span', { class: 'error' }, story.error)); return; }
  const { data, errors } = await desk.gql(ADD, { story: story.id, v: story.version, input });
  const code = desk.code(errors);
  if (code === 'VERSION_CONFLICT') {
    const actual = errors[0].extensions.actualVersion;
    outcome.replaceChildren(h('span', { class: 'error' }, `The story moved on to version ${actual} meanwhile. `),
      h('button', { type: 'button', id: `retry-${n}`, onclick: () => addToStory(form, draft, { id: story.id, version: actual }) }, 'Add it on the new version'));
    return;
  }
  if (code) { outcome.replaceChildren(h('span', { class: 'error' }, `${errors[0].message} (${code})`)); return; }
  const added = data.reportDevelopment;
  desk.rememberWrite(added.readAfter);
  form.classList.add('added');
  form.replaceChildren(h('h3', {}, `Draft ${n + 1}`),
    h('p', { class: 'ok added-to' }, `“${input.headline}” added to `,
      h('a', { href: `/stories/${encodeURIComponent(added.story.slug)}` }, added.story.slug), ` (version ${added.story.version}).`));
}

function moveFocus(step) {
  const drafts = Array.from(document.querySelectorAll('.draft:not(.added)'));
  if (!drafts.length) return;
  const at = drafts.findIndex((d) => Number(d.dataset.draft) === view.focused);
  const next = drafts[Math.max(0, Math.min(drafts.length - 1, at + step))];
  next.focus();
  markEvidence(view.report.drafts[Number(next.dataset.draft)], Number(next.dataset.draft));
}

document.addEventListener('keydown', (event) => {
  const typing = event.target.closest('input, textarea, select');
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === 'j') moveFocus(1);
  else if (event.key === 'k') moveFocus(-1);
  else if (event.key === 'a') {
    const form = document.querySelector(`.draft[data-draft="${view.focused}"]:not(.added)`);
    if (form) addToStory(form, view.report.drafts[view.focused]);
  }
});

document.getElementById('dismiss-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const { errors } = await desk.gql(DISMISS, { r: reportId, reason: event.target.reason.value });
  const error = document.getElementById('review-error');
  if (errors.length) { error.textContent = `${errors[0].message} (${desk.code(errors)})`; error.hidden = false; return; }
  load();
});

async function load() {
  const head = document.getElementById('report-head');
  if (!desk.token()) {
    head.replaceChildren(h('h1', {}, 'A report'), h('p', { class: 'muted' }, 'Reports are newsroom material: enter a token above.'));
    return;
  }
  const { data, errors } = await desk.gql(REPORT, { id: reportId });
  if (errors.length) { head.replaceChildren(h('h1', {}, 'The report could not be read'), h('p', { class: 'error' }, `${errors[0].message} (${desk.code(errors)})`)); return; }
  if (!data.report) { head.replaceChildren(h('h1', {}, 'No such report')); return; }
  view.report = data.report;
  document.title = `${data.report.title || 'Report'} · storyline`;
  head.replaceChildren(...headOf(data.report).filter(Boolean));
  renderText(data.report);
  const drafts = document.getElementById('drafts');
  drafts.replaceChildren(...(data.report.drafts.length
    ? data.report.drafts.map((d, n) => draftForm(data.report, d, n))
    : [h('p', { class: 'muted' }, 'storyline drafted no development from this report.')]));
  if (data.report.drafts.length) markEvidence(data.report.drafts[0], 0);
}

desk.mountTokenPanel(load);
load();
