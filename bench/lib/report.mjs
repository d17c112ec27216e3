// Turning measurements into the table and the verdicts of the targets of issues 5 and 13.

const fmt = (n, digits = 2) => (n === undefined || n === null || !Number.isFinite(n) ? '—' : n.toFixed(digits));
const sizeLabel = (mb) => (mb >= 1000 ? `${fmt(mb / 1000, mb % 1000 ? 1 : 0)} GB` : `${mb} MB`);

function find(results, q) {
  return results.find((r) => Object.entries(q).every(([k, v]) => r[k] === v));
}
const okWall = (r) => (r && !r.failed ? r.wallS : undefined);

/** Each target of issues 5 and 13, per size where it can be judged: {target, at, value, goal, holds, note}. */
export function evaluateTargets(results, startup) {
  const out = [];
  const sizes = [...new Set(results.map((r) => r.sizeMB))].sort((a, b) => a - b);
  const largest = sizes[sizes.length - 1];
  const bigSizes = sizes.filter((s) => s >= 1000);
  const ratioGoals = { csv: { naive: 3, 'stream-json': 3 }, ndjson: { naive: 4, 'stream-json': 5 } };
  for (const format of ['csv', 'ndjson']) {
    for (const peer of ['naive', 'stream-json']) {
      const goal = ratioGoals[format][peer];
      // Spec: naive at 100 MB (it cannot do 1 GB), stream-json at 1 GB.
      const at = peer === 'naive' ? sizes : bigSizes.length ? bigSizes : [largest];
      for (const sizeMB of at) {
        const mine = find(results, { group: 'ms-async', input: 'compact', format, sizeMB });
        const theirs = find(results, { group: peer, input: 'compact', format, sizeMB });
        if (!mine || !theirs) continue;
        const target = `${format.toUpperCase()} ≥ ${goal}× ${peer}`;
        if (theirs.failed) {
          if (peer === 'naive' && sizes.length > 1) continue; // expected at 1 GB; shown in the table
          out.push({
            target,
            at: sizeLabel(sizeMB),
            value: undefined,
            goal,
            holds: undefined,
            note: `${peer} failed: ${theirs.failed}`,
          });
          continue;
        }
        if (mine.failed) {
          out.push({
            target,
            at: sizeLabel(sizeMB),
            value: undefined,
            goal,
            holds: false,
            note: `ms-async failed: ${mine.failed}`,
          });
          continue;
        }
        const value = theirs.wallS / mine.wallS;
        const note =
          peer === 'stream-json' && sizeMB < 1000 ? `spec says at 1 GB; measured at ${sizeLabel(sizeMB)}` : undefined;
        out.push({ target, at: sizeLabel(sizeMB), value, goal, unit: '×', holds: value >= goal, note });
      }
    }
  }
  for (const sizeMB of sizes) {
    const mine = results.filter((r) => r.group === 'ms-async' && r.sizeMB === sizeMB && !r.failed && r.rssMB);
    if (mine.length) {
      const worst = mine.reduce((a, b) => (b.rssMB > a.rssMB ? b : a));
      out.push({
        target: 'ms-async peak RSS ≤ 100 MB',
        at: sizeLabel(sizeMB),
        value: worst.rssMB,
        goal: 100,
        unit: ' MB',
        holds: worst.rssMB <= 100,
        lowerIsBetter: true,
        note: `worst: ${worst.format}, ${worst.input}`,
      });
    }
  }
  for (const sizeMB of sizes) {
    // Issue 13: converting while downloading, so fetch ≈ the slower of the two, in ≤ 100 MB.
    const fetchRow = find(results, { group: 'e2e', tool: 'ms-async fetch', sizeMB });
    const curl = okWall(find(results, { group: 'e2e', tool: 'curl (download only)', sizeMB }));
    const conv = okWall(find(results, { group: 'e2e', tool: "ms-async convert (curl's file)", sizeMB }));
    const both = okWall(find(results, { group: 'e2e', tool: 'curl, then ms-async convert', sizeMB }));
    if (fetchRow && !fetchRow.failed && curl && conv) {
      const ratio = fetchRow.wallS / Math.max(curl, conv);
      out.push({
        target: "fetch ≤ 1.25× max(curl, convert), storage at the converter's speed",
        at: sizeLabel(sizeMB),
        value: ratio,
        goal: 1.25,
        unit: '×',
        holds: ratio <= 1.25,
        lowerIsBetter: true,
        note: `fetch ${fmt(fetchRow.wallS)} s; curl ${fmt(curl)} s (${Math.round(fetchRow.bytes / curl / 1e6)} MB/s delivered); convert ${fmt(conv)} s${both ? `; curl then convert ${fmt(both)} s` : ''}`,
      });
      out.push({
        target: 'fetch (download + convert) peak RSS ≤ 100 MB',
        at: sizeLabel(sizeMB),
        value: fetchRow.rssMB,
        goal: 100,
        unit: ' MB',
        holds: fetchRow.rssMB <= 100,
        lowerIsBetter: true,
        note: 'issue 13',
      });
    }
  }
  for (const sizeMB of sizes) {
    // fetch/export convert in the same process as the download: the same ceiling, informative.
    const dl = results.filter((r) => r.group === 'download' && r.sizeMB === sizeMB && !r.failed && r.rssMB);
    if (dl.length) {
      const worst = dl.reduce((a, b) => (b.rssMB > a.rssMB ? b : a));
      out.push({
        target: '`export --reuse` (download + convert) peak RSS ≤ 100 MB',
        at: sizeLabel(sizeMB),
        value: worst.rssMB,
        goal: 100,
        unit: ' MB',
        holds: worst.rssMB <= 100,
        lowerIsBetter: true,
        note: `beyond the letter of the spec (the converting process of fetch/export); worst: ${worst.format}`,
      });
    }
  }
  for (const sizeMB of sizes) {
    // Issue 8: an .xlsx within 3× the CSV's time, in flat memory (≤ 150 MB even at 1 GB).
    const csv = find(results, { group: 'ms-async', input: 'compact', format: 'csv', sizeMB });
    const xlsx = find(results, { group: 'xlsx', tool: 'ms-async convert', format: 'xlsx', sizeMB });
    if (!xlsx) continue;
    if (xlsx.failed) {
      out.push({
        target: 'XLSX within 3× CSV time',
        at: sizeLabel(sizeMB),
        value: undefined,
        goal: 3,
        holds: false,
        note: `ms-async failed: ${xlsx.failed}`,
      });
      continue;
    }
    const lib = find(results, { group: 'xlsx', tool: 'exceljs WorkbookWriter', sizeMB });
    const vsLib = okWall(lib) === undefined ? '' : `; exceljs ${fmt(lib.wallS)} s, ${fmt(lib.rssMB, 0)} MB`;
    if (okWall(csv) !== undefined) {
      const value = xlsx.wallS / csv.wallS;
      out.push({
        target: 'XLSX within 3× CSV time',
        at: sizeLabel(sizeMB),
        value,
        goal: 3,
        unit: '× time',
        holds: value <= 3,
        lowerIsBetter: true,
        note: `ms-async xlsx ${fmt(xlsx.wallS)} s vs csv ${fmt(csv.wallS)} s${vsLib}`,
      });
    }
    if (xlsx.rssMB) {
      out.push({
        target: 'XLSX peak RSS ≤ 150 MB',
        at: sizeLabel(sizeMB),
        value: xlsx.rssMB,
        goal: 150,
        unit: ' MB',
        holds: xlsx.rssMB <= 150,
        lowerIsBetter: true,
        note: sizeMB < 1000 ? 'spec says at 1 GB' : undefined,
      });
    }
  }
  const base = startup.find((s) => s.label === 'node -e 0');
  for (const s of startup) {
    if (s === base || !base?.wallS || s.label.startsWith('node ')) continue;
    if (s.failed) {
      out.push({
        target: `\`${s.label}\` ≤ 2× \`node -e 0\``,
        at: '—',
        value: undefined,
        goal: 2,
        holds: false,
        note: s.failed,
      });
      continue;
    }
    const value = s.wallS / base.wallS;
    out.push({
      target: `\`${s.label}\` ≤ 2× \`node -e 0\``,
      at: '—',
      value,
      goal: 2,
      unit: '×',
      holds: value <= 2,
      lowerIsBetter: true,
      note: `${fmt(s.wallS * 1000, 0)} ms vs ${fmt(base.wallS * 1000, 0)} ms`,
    });
  }
  for (const sizeMB of sizes) {
    for (const format of ['csv', 'ndjson']) {
      const c = okWall(find(results, { group: 'ms-async', input: 'compact', format, sizeMB }));
      const p = okWall(find(results, { group: 'ms-async', input: 'pretty', format, sizeMB }));
      if (c === undefined || p === undefined) continue;
      // Same records, so the wall-time ratio is the records/s gap; per input byte pretty looks better.
      const value = p / c;
      const cr = find(results, { group: 'ms-async', input: 'compact', format, sizeMB });
      const pr = find(results, { group: 'ms-async', input: 'pretty', format, sizeMB });
      const mbs = (r) => fmt(r.bytes / 1e6 / r.wallS, 0);
      out.push({
        target: `pretty within 20% of compact (${format.toUpperCase()})`,
        at: sizeLabel(sizeMB),
        value,
        goal: 1.2,
        unit: '× time',
        holds: value <= 1.2,
        lowerIsBetter: true,
        note: `wall time of the same records, pretty ÷ compact (per input byte: ${mbs(pr)} vs ${mbs(cr)} MB/s)`,
      });
    }
  }
  return out;
}

function verdict(t) {
  if (t.holds === undefined) return 'n/a';
  if (t.value === undefined) return t.holds ? 'holds' : '**FAILS**';
  // How far from the goal, in the direction that matters.
  const margin = t.lowerIsBetter ? (t.goal - t.value) / t.goal : (t.value - t.goal) / t.goal;
  const pct = `${Math.abs(margin * 100).toFixed(0)}%`;
  return t.holds ? `holds (${pct} margin)` : `**FAILS** (by ${pct})`;
}

export function renderMarkdown({ machine, results, startup, targets, notes }) {
  const lines = [];
  lines.push(
    `Measured ${machine.date} on ${machine.nproc} cores (\`nproc\`), ${machine.cpu}, ${machine.memGB} GB RAM, ` +
      `Node ${machine.node}, ${machine.os ?? ''}${machine.gitHead ? `, commit ${machine.gitHead}` : ''}; ` +
      `load average ${machine.loadBefore} before, ${machine.loadAfter} after; ` +
      `${machine.jq ?? 'no jq'}; stream-json ${machine.streamJson}. ` +
      `Median of ${machine.repeat} runs (tools interleaved), whole processes measured from outside: ` +
      `wall time spawn → exit, peak RSS = max over runs of GNU time's %M. MB = 10⁶ bytes; ` +
      `MB/s = input JSON bytes ÷ wall time; × naive / × stream-json = the peer's wall time ÷ this row's ` +
      `(same size, format and compact input; above 1 = faster than the peer).` +
      (machine.extraCaCerts === 'removed'
        ? ' This machine sets NODE_EXTRA_CA_CERTS; the tools ran without it (Node parses that CA bundle at every ' +
          'start, whatever the script: see the start-up rows).'
        : machine.extraCaCerts === 'kept'
          ? " The tools ran with this machine's NODE_EXTRA_CA_CERTS (each Node start parses that CA bundle)."
          : ''),
    '',
    `Reproduce: \`npm ci && npm run bench -- --sizes ${[...new Set(results.map((r) => r.sizeMB))].join(',') || '100,1000'}\` ` +
      '(inputs are generated by the sandbox generator, seed ' +
      machine.seed +
      ', and cached in `.bench-cache/`).',
    '',
  );
  const failures = [];
  const sizes = [...new Set(results.map((r) => r.sizeMB))].sort((a, b) => a - b);
  for (const sizeMB of sizes) {
    const rows = results.filter((r) => r.sizeMB === sizeMB);
    const compact = rows.find((r) => r.input === 'compact');
    const pretty = rows.find((r) => r.input === 'pretty');
    lines.push(
      `#### ${sizeLabel(sizeMB)} stock-by-store result (${rows[0]?.rows?.toLocaleString('en-US')} records; ` +
        `compact ${fmt((compact?.bytes ?? 0) / 1e6, 1)} MB${pretty ? `, pretty ${fmt(pretty.bytes / 1e6, 1)} MB` : ''})`,
      '',
      '| tool | input | format | wall s | (min–max) | MB/s | peak RSS MB | × naive | × stream-json | records out |',
      '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    // Reference record counts: NDJSON = the result's records; CSV = what the peers wrote.
    const csvRef = ['stream-json', 'naive', 'ms-async']
      .map((g) => find(rows, { group: g, format: 'csv' })?.check?.records)
      .find((n) => n !== undefined);
    for (const r of rows) {
      const peerWall = (g) =>
        r.input === 'compact' && r.format !== '-'
          ? okWall(find(rows, { group: g, input: 'compact', format: r.format }))
          : undefined;
      const ratio = (g) => (r.failed || r.group === 'io' || r.input === 'pretty' ? undefined : peerWall(g) / r.wallS);
      let wall = fmt(r.wallS);
      if (r.failed) {
        failures.push(`${r.tool} (${r.format}, ${sizeLabel(sizeMB)}): ${r.failed}`);
        wall = `failed[^f${failures.length}]`;
      }
      let rec = '—';
      if (r.check) {
        const ref = r.format === 'ndjson' ? r.rows : csvRef;
        rec = r.check.missing
          ? 'no file'
          : `${r.check.records.toLocaleString('en-US')}${ref === undefined ? '' : r.check.records === ref ? ' ✓' : ` ✗ (expected ${ref.toLocaleString('en-US')})`}`;
      }
      const tool = r.tool === 'ms-async convert' ? `**${r.tool}**` : r.tool;
      const range = r.failed || r.okRuns < 2 ? '' : `${fmt(r.wallMinS)}–${fmt(r.wallMaxS)}`;
      lines.push(
        `| ${tool} | ${r.input} | ${r.format} | ${wall} | ${range} | ${r.failed ? '—' : fmt(r.bytes / 1e6 / r.wallS, 0)} | ${fmt(r.rssMB, 0)} | ${fmt(ratio('naive'))} | ${fmt(ratio('stream-json'))} | ${rec} |`,
      );
    }
    lines.push('');
    const e2e = [];
    for (const format of ['csv', 'ndjson']) {
      const conv = find(rows, { group: 'ms-async', input: 'compact', format });
      if (!conv || conv.failed) continue;
      const dl = find(rows, { group: 'download', format });
      const exp = find(rows, { group: 'export', format });
      const parts = [];
      if (dl && !dl.failed)
        parts.push(
          `download + convert from a running sandbox ${fmt(dl.wallS)} s (+${fmt(dl.wallS - conv.wallS)} s, client RSS ${fmt(dl.rssMB, 0)} MB)`,
        );
      if (exp && !exp.failed)
        parts.push(`\`export --sandbox\` from scratch ${fmt(exp.wallS)} s (+${fmt(exp.wallS - conv.wallS)} s)`);
      if (parts.length)
        e2e.push(`${format.toUpperCase()}: converting the file ${fmt(conv.wallS)} s; ${parts.join('; ')}`);
    }
    if (e2e.length) {
      lines.push(`What the download adds at ${sizeLabel(sizeMB)}:`, '', ...e2e.map((l) => `- ${l}.`), '');
    }
  }
  if (failures.length) {
    lines.push(...failures.map((f, i) => `[^f${i + 1}]: ${f}`), '');
  }
  if (startup.length) {
    const base = startup.find((s) => s.label === 'node -e 0');
    lines.push(
      `#### Start-up (median of ${machine.startupRepeat})`,
      '',
      '| command | wall ms | peak RSS MB | × `node -e 0` |',
      '|---|---:|---:|---:|',
    );
    for (const s of startup) {
      lines.push(
        `| \`${s.label}\` | ${s.failed ? `failed: ${s.failed}` : fmt(s.wallS * 1000, 0)} | ${fmt(s.rssMB, 0)} | ${base?.wallS && s.wallS ? fmt(s.wallS / base.wallS) : '—'} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '#### Targets (issues 5 and 13)',
    '',
    '| target | at | measured | goal | verdict | note |',
    '|---|---|---:|---:|---|---|',
  );
  for (const t of targets) {
    const unit = t.unit ?? '';
    lines.push(
      `| ${t.target} | ${t.at} | ${t.value === undefined ? '—' : `${fmt(t.value, unit === ' MB' ? 0 : 2)}${unit}`} | ${t.goal}${unit} | ${verdict(t)} | ${t.note ?? ''} |`,
    );
  }
  if (targets.length === 0) lines.push('| (nothing to judge: ms-async rows were not measured) | | | | | |');
  lines.push('');
  for (const n of notes) lines.push(`- ${n}`);
  if (notes.length) lines.push('');
  return lines.join('\n');
}
