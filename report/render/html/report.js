/* netprof HTML report: renders the JSON in #np-data (embedded at build time).
 *
 * Every string from the recording is untrusted (process names, command
 * lines, symbols, paths): it only ever reaches the page through textContent
 * or canvas fillText, never innerHTML or an attribute that is parsed.  The
 * page makes no request of any kind (the CSP forbids it anyway).
 *
 * Components: verdict and breakdown bar, findings, a zoomable timeline that
 * draws every series of every track generically, a flame graph (on-CPU and
 * off-CPU) built from folded stacks, and sortable tables.  When done, the
 * page writes a self-check into #np-selfcheck (the Chromium test reads it).
 */
(function () {
  'use strict';

  var check = { status: 'running', errors: [], timeline: null, flame: null, tables: 0 };
  window.addEventListener('error', function (ev) {
    check.errors.push(String(ev.message || ev));
    writeCheck();
  });
  /* the page must never need anything the CSP forbids */
  document.addEventListener('securitypolicyviolation', function (ev) {
    check.errors.push('CSP: ' + ev.violatedDirective + ' ' + ev.blockedURI);
    writeCheck();
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }

  /* --- formatting ------------------------------------------------------ */
  function fmtNs(ns) {
    ns = Number(ns) || 0;
    if (ns >= 999995000) return (ns / 1e9).toFixed(2) + ' s';
    if (ns >= 999950) return (ns / 1e6).toFixed(2) + ' ms';
    if (ns >= 1000) return (ns / 1e3).toFixed(1) + ' us';
    return Math.round(ns) + ' ns';
  }
  function fmtBytes(b) {
    b = Number(b) || 0;
    if (b >= 1073741824) return (b / 1073741824).toFixed(1) + ' GiB';
    if (b >= 1048576) return (b / 1048576).toFixed(1) + ' MiB';
    if (b >= 1024) return (b / 1024).toFixed(1) + ' KiB';
    return b + ' B';
  }
  function fmtInt(n) { return (Number(n) || 0).toLocaleString('en-US'); }
  function fmtValue(v, unit) {
    if (v === null || v === undefined) return '-';
    switch (unit) {
      case 'share': return (v * 100).toFixed(1) + '%';
      case 'ns': return fmtNs(v);
      case 'bytes': return fmtBytes(v);
      case 'per second': return fmtInt(Math.round(v)) + '/s';
      case 'ratio': return Number(v).toPrecision(3);
      case 'bool': return v ? 'yes' : 'no';
      default: return fmtInt(Math.round(v * 100) / 100);
    }
  }
  function fmtOffset(us) { return (us / 1e6).toFixed(us < 1e7 ? 3 : 1) + ' s'; }
  function sevOf(s) { return s === 'critical' || s === 'warning' ? s : 'info'; }

  /* --- sortable tables --------------------------------------------------- */
  /* cols: [{key, label, num, fmt(value,row)}]; rows: array of objects. */
  function table(parent, cols, rows, emptyText) {
    if (!rows || !rows.length) {
      add(parent, el('div', 'empty', emptyText || 'none'));
      return null;
    }
    var wrap = add(parent, el('div', 'tablewrap'));
    var t = add(wrap, el('table'));
    var thead = add(t, el('thead'));
    var hr = add(thead, el('tr'));
    var tbody = add(t, el('tbody'));
    var sortKey = null, sortDir = 1;
    var ths = cols.map(function (c) {
      var th = add(hr, el('th', c.num ? 'num' : '', c.label));
      th.setAttribute('role', 'columnheader');
      th.addEventListener('click', function () {
        sortDir = sortKey === c.key ? -sortDir : (c.num ? -1 : 1);
        sortKey = c.key;
        ths.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
        render();
      });
      return th;
    });
    function val(r, c) { var v = c.get ? c.get(r) : r[c.key]; return v === undefined ? null : v; }
    function render() {
      var data = rows.slice();
      if (sortKey !== null) {
        var c = cols.filter(function (x) { return x.key === sortKey; })[0];
        data.sort(function (a, b) {
          var x = val(a, c), y = val(b, c);
          if (x === y) return 0;
          if (x === null) return 1;
          if (y === null) return -1;
          if (typeof x === 'number' && typeof y === 'number') return (x - y) * sortDir;
          return String(x).localeCompare(String(y)) * sortDir;
        });
      }
      tbody.textContent = '';
      data.forEach(function (r) {
        var tr = add(tbody, el('tr'));
        cols.forEach(function (c) {
          var v = val(r, c);
          var text = c.fmt ? c.fmt(v, r) : (v === null ? '-' : v);
          add(tr, el('td', c.num ? 'num' : '', text));
        });
      });
    }
    render();
    check.tables++;
    return t;
  }

  /* A table for an array of flat objects whose shape this page does not
   * know (a later source's section): one column per scalar key. */
  function autoTable(parent, rows, emptyText) {
    if (!rows || !rows.length) return table(parent, [], [], emptyText);
    var keys = [];
    rows.forEach(function (r) {
      Object.keys(r).forEach(function (k) {
        var v = r[k];
        if (keys.indexOf(k) < 0 && (v === null || typeof v !== 'object')) keys.push(k);
      });
    });
    return table(parent, keys.map(function (k) {
      var num = rows.some(function (r) { return typeof r[k] === 'number'; });
      return {
        key: k, label: k, num: num,
        fmt: function (v) {
          if (v === null || v === undefined) return '-';
          if (typeof v === 'number' && /_ns$/.test(k)) return fmtNs(v);
          if (typeof v === 'number' && /bytes/.test(k)) return fmtBytes(v);
          if (typeof v === 'number') return fmtInt(v);
          return String(v);
        }
      };
    }), rows, emptyText);
  }

  /* --- header, verdict, breakdown, findings ------------------------------ */
  function header(root, R) {
    var t = R.target || {};
    document.title = 'netprof: ' + (t.comm || 'report') + ' (pid ' + t.pid + ')';
    add(root, el('h1', '', 'netprof report: ' + (t.comm || '?') + ' (pid ' + t.pid + ')'));
    var dl = add(root, el('dl', 'meta'));
    function row(k, v) { add(dl, el('dt', '', k)); add(dl, el('dd', 'mono', v)); }
    row('command', t.cmdline || '');
    row('host', (R.host.hostname || '') + ', Linux ' + (R.host.kernel || '') + ', ' + R.host.cpus + ' CPUs');
    row('window', (R.window.start_time || '?') + ', ' + fmtNs(R.window.duration_ns) + ', ended by ' + R.window.end_reason);
    row('netprof', R.netprof_version + (R.recording && !R.recording.complete ? ' (recording incomplete)' : ''));
    var nav = add(root, el('nav', 'toc'));
    [['verdict', 'Verdict'], ['findings', 'Findings'], ['timeline', 'Timeline'], ['flame', 'Flame graph'],
     ['syscalls', 'Syscalls'], ['threads', 'Threads'], ['network', 'Sockets, NIC, CPUs'], ['sources', 'Sources'], ['rules', 'Rules']]
      .forEach(function (p) { var a = add(nav, el('a', '', p[1])); a.href = '#' + p[0]; });
  }

  function verdict(root, R) {
    var h = add(root, el('h2', '', 'Verdict')); h.id = 'verdict';
    var v = R.verdict;
    var card = add(root, el('div', 'card verdict ' + (v ? sevOf(v.severity) : 'none')));
    if (!v) {
      add(card, el('div', 'big', 'No bottleneck found: no finding above info.'));
    } else {
      var line = add(card, el('div', 'big'));
      add(line, el('span', 'sev ' + sevOf(v.severity), v.severity));
      line.appendChild(document.createTextNode(' '));
      add(line, el('code', '', v.cause));
      line.appendChild(document.createTextNode(' (' + v.layer + '): ' + v.summary));
    }
    var b = R.breakdown;
    add(card, el('h3', '', 'Where the service\'s time went'));
    if (!b) {
      add(card, el('div', 'muted', 'Unknown: the threads\' scheduler times were not recorded.'));
      return;
    }
    var parts = ['application', 'stack', 'nic', 'peer', 'idle'];
    var total = parts.reduce(function (s, p) { return s + b[p + '_ns']; }, 0) || 1;
    var bar = add(card, el('div', 'bar'));
    var legend = add(card, el('div', 'legend'));
    parts.forEach(function (p) {
      var share = b[p + '_ns'] / total;
      var seg = add(bar, el('div', 'seg-' + p));
      seg.style.width = (share * 100).toFixed(3) + '%';
      seg.title = p + ' ' + (share * 100).toFixed(1) + '%';
      var item = add(legend, el('span'));
      add(item, el('span', 'sw seg-' + p));
      item.appendChild(document.createTextNode(p + ' ' + (share * 100).toFixed(1) + '% (' + fmtNs(b[p + '_ns']) + ')'));
    });
    add(card, el('div', 'muted', 'Shares of the time of the threads that made network calls, scaled to the ' +
      fmtNs(b.window_ns) + ' window; idle = waiting for work with nothing queued' +
      (b.estimated ? '; partly estimated from the syscall source' : '') + '.'));
  }

  function spansText(R, spans) {
    return (spans || []).map(function (s) {
      return (s.offset_ns / 1e9).toFixed(0) + '-' + ((s.offset_ns + s.duration_ns) / 1e9).toFixed(0) + 's';
    }).join(', ');
  }

  function findings(root, R) {
    var h = add(root, el('h2', '', 'Findings')); h.id = 'findings';
    if (!R.findings.length) add(root, el('div', 'empty', 'No finding.'));
    R.findings.forEach(function (f) {
      var card = add(root, el('div', 'card finding ' + sevOf(f.severity)));
      var head = add(card, el('div', 'head'));
      add(head, el('span', 'sev ' + sevOf(f.severity), f.severity));
      add(head, el('span', 'cause', f.cause));
      add(head, el('span', 'muted', f.layer + ', score ' + Number(f.score).toFixed(2)));
      add(card, el('div', '', f.summary));
      table(card, [
        { key: 'metric', label: 'evidence' },
        { key: 'value', label: 'value', num: true, fmt: function (v, r) { return fmtValue(v, r.unit); } },
        { key: 'where', label: 'where', fmt: function (v) { return v || 'the service'; } },
        { key: 'when', label: 'when (windows where it moved)', get: function (r) { return spansText(R, r.when); } }
      ], f.evidence);
      var c = f.correlation || {};
      var known = c.latency_rose !== null && c.latency_rose !== undefined;
      var lat = 'Latency (' + (c.latency_metric === 'exchange_p99_ns' ? 'request p99' : 'p99 of network I/O calls') + ') ';
      if (c.steady) {
        // moved in every window: no quieter window for latency to rise against
        add(card, el('div', 'muted', 'Steady over the whole window (' + c.windows_moved + ' of ' + c.windows_total + ' windows)' +
          (!known ? '.' : c.latency_rose ? '; ' + lat.toLowerCase() + 'rose in ' + c.windows_latency_rose + ' of them.'
            : ': no quieter window to compare ' + lat.toLowerCase().trim() + ' with.')));
      } else if (known) {
        add(card, el('div', 'muted', lat + (c.latency_rose ? 'rose in ' + c.windows_latency_rose + ' of the ' : 'did not rise in the ') + c.windows_moved +
          ' windows where this finding\'s counters moved.'));
      }
      if (f.confidence) add(card, el('div', 'muted', 'Confidence ' + f.confidence.level + ': ' + f.confidence.why + '.'));
      if (f.counter_evidence) add(card, el('div', 'muted', 'Against it: ' + f.counter_evidence + '.'));
      var adv = add(card, el('div', 'advice'));
      add(adv, el('strong', '', 'Next: '));
      add(adv, el('span', 'mono', f.advice));
    });
    var notes = (R.sources || []).filter(function (s) { return s.status !== 'ok'; });
    if (notes.length) {
      add(root, el('div', 'muted', 'Not fully measured in this recording, so causes that need them cannot be found: ' +
        notes.map(function (s) { return s.name + ' (' + s.status + ')'; }).join(', ') + '.'));
    }
  }

  /* --- timeline ---------------------------------------------------------- */
  var COLORS = ['#3b82c4', '#d9822b', '#6a9f3a', '#b8456b', '#7c5cc4', '#2a9d8f', '#c4a43b', '#8d6e63', '#5c6bc0', '#e76f51'];
  var SEVCOL = { critical: 'rgba(198,40,40,0.13)', warning: 'rgba(217,138,0,0.14)', info: 'rgba(122,135,148,0.10)' };
  var SEVLINE = { critical: '#c62828', warning: '#d98a00', info: '#7a8794' };

  function Timeline(parent, T) {
    var self = this;
    var LABEL = 200, AXIS = 26, PAD = 6;
    var tracks = T.tracks.map(function (tr) {
      var isEvents = tr.series.some(function (s) { return s.kind === 'events' || s.kind === 'state'; });
      var stacked = tr.series.length > 1 && tr.series.every(function (s) { return s.kind === 'counter' && s.unit === 'share'; });
      var h = Math.max(isEvents ? 70 : 54, 28 + tr.series.length * 12);
      var max = 0, min = Infinity;
      tr.series.forEach(function (s) {
        s.v.forEach(function (v) { if (v > max) max = v; if (v > 0 && v < min) min = v; });
      });
      if (stacked) max = 1;
      if (!(max > 0)) max = 1;
      if (!(min < Infinity)) min = max / 1000;
      var states = tr.series.length > 0 && tr.series.every(function (s) { return s.kind === 'state'; });
      return { tr: tr, h: states ? 40 : h, max: max, min: min, stacked: stacked, isEvents: isEvents, states: states,
        unit: tr.series[0] ? tr.series[0].unit : '' };
    });
    var height = AXIS + tracks.reduce(function (s, t) { return s + t.h; }, 0) + PAD;
    var toolbar = add(parent, el('div', 'toolbar'));
    var reset = add(toolbar, el('button', '', 'Reset zoom'));
    var range = add(toolbar, el('span', 'muted'));
    add(toolbar, el('span', 'muted', 'Wheel to zoom, drag to pan, double-click to reset. Shaded spans are findings.'));
    // thread states: one colour per state, the same on every thread's track
    var stateLabels = [];
    T.tracks.forEach(function (tr) {
      tr.series.forEach(function (s) {
        if (s.kind === 'state') s.labels.forEach(function (l, i) { if (!stateLabels[i]) stateLabels[i] = l; });
      });
    });
    if (stateLabels.length) {
      var lg = add(parent, el('div', 'legend'));
      add(lg, el('span', 'muted', 'Thread states:'));
      stateLabels.forEach(function (l, i) {
        var item = add(lg, el('span'));
        var sw = add(item, el('span', 'sw'));
        sw.style.background = COLORS[i % COLORS.length];
        add(item, document.createTextNode(l));
      });
    }
    var wrap = add(parent, el('div', 'canvaswrap'));
    var canvas = add(wrap, el('canvas'));
    var tip = add(wrap, el('div', 'tip'));
    var total = Math.max(T.duration_us, 1);
    this.view = [0, total];
    this.drawn = 0;
    this.tracks = tracks.length;

    function x2t(x, w) { return self.view[0] + (x - LABEL) / (w - LABEL) * (self.view[1] - self.view[0]); }
    function t2x(t, w) { return LABEL + (t - self.view[0]) / (self.view[1] - self.view[0]) * (w - LABEL); }

    this.draw = function () {
      var dpr = window.devicePixelRatio || 1;
      var w = Math.max(canvas.clientWidth || parent.clientWidth || 900, 400);
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.height = height + 'px';
      var g = canvas.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, height);
      g.font = '11px system-ui, sans-serif';
      g.textBaseline = 'middle';
      var drawn = 0;
      // axis
      g.fillStyle = '#646b73';
      var span = self.view[1] - self.view[0];
      var step = Math.pow(10, Math.floor(Math.log10(span / 8)));
      if (span / step > 16) step *= 5; else if (span / step > 8) step *= 2;
      for (var t = Math.ceil(self.view[0] / step) * step; t <= self.view[1]; t += step) {
        var x = t2x(t, w);
        g.fillRect(x, AXIS - 6, 1, 6);
        g.fillText(fmtOffset(t), x + 2, AXIS - 14);
        g.fillStyle = '#eef0f2'; g.fillRect(x, AXIS, 1, height - AXIS); g.fillStyle = '#646b73';
      }
      var y = AXIS;
      tracks.forEach(function (tk, ti) {
        tk.y = y;
        g.fillStyle = ti % 2 ? '#fafbfc' : '#ffffff';
        g.fillRect(0, y, w, tk.h);
        g.fillStyle = '#1d2126';
        g.save(); g.beginPath(); g.rect(0, y, LABEL - 6, tk.h); g.clip();
        g.font = '600 11.5px system-ui, sans-serif';
        g.fillText(tk.tr.name, 6, y + 12);
        g.font = '11px system-ui, sans-serif';
        tk.tr.series.forEach(function (s, si) {
          g.fillStyle = COLORS[si % COLORS.length];
          g.fillRect(6, y + 24 + si * 12 - 4, 8, 8);
          g.fillStyle = '#646b73';
          if (24 + si * 12 < tk.h - 2) g.fillText(s.name + (s.total > s.t.length ? ' (' + s.t.length + ' of ' + s.total + ')' : ''), 18, y + 24 + si * 12);
        });
        g.restore();
        g.fillStyle = '#646b73';
        g.textAlign = 'right';
        if (!tk.states) g.fillText(tk.isEvents ? 'log, max ' + fmtValue(tk.max, tk.unit) : 'max ' + fmtValue(tk.max, tk.unit), w - 4, y + 8);
        g.textAlign = 'left';
        g.save(); g.beginPath(); g.rect(LABEL, y, w - LABEL, tk.h); g.clip();
        drawn += drawTrack(g, tk, w, y);
        g.restore();
        g.fillStyle = '#d9dcdf'; g.fillRect(0, y + tk.h - 1, w, 1);
        y += tk.h;
      });
      // findings across every track
      (T.spans || []).forEach(function (sp) {
        var x0 = Math.max(t2x(sp.start_us, w), LABEL), x1 = Math.min(t2x(sp.end_us, w), w);
        if (x1 <= LABEL || x0 >= w) return;
        g.fillStyle = SEVCOL[sevOf(sp.severity)];
        g.fillRect(x0, AXIS, Math.max(x1 - x0, 2), height - AXIS - PAD);
        g.fillStyle = SEVLINE[sevOf(sp.severity)];
        g.fillRect(x0, AXIS, Math.max(x1 - x0, 2), 3);
        g.fillText(sp.cause, x0 + 3, AXIS + 10);
        drawn++;
      });
      range.textContent = 'Showing ' + fmtOffset(self.view[0]) + ' to ' + fmtOffset(self.view[1]);
      self.drawn = drawn;
    };

    function yOf(tk, v, y) {
      if (tk.isEvents) {
        var lo = Math.log10(Math.max(tk.min, 1e-9)), hi = Math.log10(tk.max);
        var f = hi > lo ? (Math.log10(Math.max(v, tk.min)) - lo) / (hi - lo) : 1;
        return y + tk.h - 4 - f * (tk.h - 10);
      }
      return y + tk.h - 3 - (v / tk.max) * (tk.h - 16);
    }

    function drawTrack(g, tk, w, y) {
      var n = 0, base = null;
      tk.tr.series.forEach(function (s, si) {
        var col = COLORS[si % COLORS.length];
        g.fillStyle = col; g.strokeStyle = col;
        if (s.kind === 'counter') {
          if (tk.stacked && !base) base = {};
          for (var i = 0; i < s.t.length; i++) {
            var x0 = t2x(s.t[i], w), x1 = t2x(s.t[i] + Math.max(s.d[i], 1), w);
            if (x1 < LABEL || x0 > w) continue;
            var b = tk.stacked ? (base[s.t[i]] || 0) : 0;
            var ytop = yOf(tk, b + s.v[i], y), ybot = yOf(tk, b, y);
            if (tk.stacked) base[s.t[i]] = b + s.v[i];
            g.globalAlpha = tk.stacked ? 0.9 : 0.55;
            g.fillRect(x0, ytop, Math.max(x1 - x0 - (x1 - x0 > 4 ? 1 : 0), 1), Math.max(ybot - ytop, s.v[i] > 0 ? 1 : 0));
            g.globalAlpha = 1;
            n++;
          }
        } else if (s.kind === 'gauge') {
          g.beginPath();
          var started = false;
          for (var j = 0; j < s.t.length; j++) {
            var x = t2x(s.t[j], w), yy = yOf(tk, s.v[j], y);
            if (!started) { g.moveTo(x, yy); started = true; } else g.lineTo(x, yy);
            if (s.t.length < 200) g.fillRect(x - 1.5, yy - 1.5, 3, 3);
            n++;
          }
          g.lineWidth = 1.5; g.stroke();
        } else {
          for (var k = 0; k < s.t.length; k++) {
            var ex0 = t2x(s.t[k], w), ex1 = t2x(s.t[k] + s.d[k], w);
            if (ex1 < LABEL - 2 || ex0 > w) continue;
            var ey = yOf(tk, s.v[k], y);
            if (s.kind === 'state') {
              g.fillStyle = COLORS[(s.l ? s.l[k] : 0) % COLORS.length];
              g.fillRect(ex0, y + 4, Math.max(ex1 - ex0, 1), tk.h - 8);
            } else {
              g.fillStyle = col;
              g.globalAlpha = 0.75;
              g.fillRect(ex0 - 1, ey - 1.5, Math.max(ex1 - ex0, 2) + 1, 3);
              g.globalAlpha = 1;
            }
            n++;
          }
        }
      });
      return n;
    }

    function nearest(mx, my, w) {
      var tk = null;
      tracks.forEach(function (t) { if (my >= t.y && my < t.y + t.h) tk = t; });
      if (!tk || mx < LABEL) return null;
      var t = x2t(mx, w), best = null, bestD = Infinity;
      tk.tr.series.forEach(function (s) {
        for (var i = 0; i < s.t.length; i++) {
          var inside = t >= s.t[i] && t <= s.t[i] + s.d[i];
          var dx = inside ? 0 : Math.abs(t2x(s.t[i], w) - mx);
          var dy = s.kind === 'events' ? Math.abs(yOf(tk, s.v[i], tk.y) - my) : 0;
          var dd = dx + dy;
          if (dd < bestD) { bestD = dd; best = { s: s, i: i }; }
        }
      });
      if (!best || bestD > 24) return null;
      var s = best.s, i = best.i;
      var lines = [tk.tr.name + ': ' + s.name, 'at ' + fmtOffset(s.t[i]) + (s.d[i] ? ' for ' + fmtNs(s.d[i] * 1000) : ''),
        'value ' + fmtValue(s.v[i], s.unit)];
      if (s.labels.length) lines.push(s.labels[s.l ? s.l[i] : 0]);
      if (s.p) lines.push('thread ' + s.p[i]);
      return lines.join('\n');
    }

    var drag = null;
    canvas.addEventListener('wheel', function (ev) {
      ev.preventDefault();
      var w = canvas.clientWidth, t = x2t(ev.offsetX, w);
      var f = ev.deltaY > 0 ? 1.25 : 0.8;
      var a = t - (t - self.view[0]) * f, b = t + (self.view[1] - t) * f;
      if (b - a < 100) return;
      self.view = [Math.max(0, a), Math.min(total, b)];
      self.draw();
    }, { passive: false });
    canvas.addEventListener('mousedown', function (ev) { drag = { x: ev.offsetX, v: self.view.slice() }; });
    window.addEventListener('mouseup', function () { drag = null; });
    canvas.addEventListener('mousemove', function (ev) {
      var w = canvas.clientWidth;
      if (drag) {
        var dt = (ev.offsetX - drag.x) / (w - LABEL) * (drag.v[1] - drag.v[0]);
        var a = drag.v[0] - dt, b = drag.v[1] - dt;
        if (a < 0) { b -= a; a = 0; }
        if (b > total) { a -= b - total; b = total; }
        self.view = [Math.max(0, a), b];
        self.draw();
        return;
      }
      var text = nearest(ev.offsetX, ev.offsetY, w);
      tip.style.display = text ? 'block' : 'none';
      if (text) {
        tip.textContent = text;
        tip.style.left = Math.min(ev.offsetX + 12, w - 260) + 'px';
        tip.style.top = (ev.offsetY + 12) + 'px';
      }
    });
    canvas.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    canvas.addEventListener('dblclick', function () { self.view = [0, total]; self.draw(); });
    reset.addEventListener('click', function () { self.view = [0, total]; self.draw(); });
    window.addEventListener('resize', function () { self.draw(); });
    this.zoom = function (a, b) { self.view = [a, b]; self.draw(); };
    this.draw();
  }

  function timeline(root, D) {
    var h = add(root, el('h2', '', 'Timeline')); h.id = 'timeline';
    var T = D.timeline;
    if (!T || !T.tracks || !T.tracks.length) {
      add(root, el('div', 'empty', 'No time series in this recording.'));
      check.timeline = { ok: true, tracks: 0, drawn: 0 };
      return;
    }
    var tl = new Timeline(root, T);
    // exercise zoom once, then back: the self-check proves it redraws
    var before = tl.drawn;
    tl.zoom(0, Math.max(T.duration_us / 2, 1));
    tl.zoom(0, Math.max(T.duration_us, 1));
    check.timeline = { ok: tl.drawn > 0 && before > 0, tracks: tl.tracks, drawn: tl.drawn,
      spans: (T.spans || []).length };
  }

  /* --- flame graph ------------------------------------------------------- */
  function buildTree(F) {
    var root = { name: 'all', value: 0, children: {}, list: null, depth: 0 };
    F.stacks.forEach(function (p) {
      var frames = String(p[0]).split(';'), n = Number(p[1]) || 0, node = root;
      root.value += n;
      frames.forEach(function (name) {
        if (!name) return;
        var c = node.children[name];
        if (!c) { c = node.children[name] = { name: name, value: 0, children: {}, parent: node, depth: node.depth + 1 }; }
        c.value += n;
        node = c;
      });
    });
    (function sort(n) {
      n.list = Object.keys(n.children).map(function (k) { return n.children[k]; });
      n.list.sort(function (a, b) { return b.value - a.value || (a.name < b.name ? -1 : 1); });
      n.list.forEach(sort);
    })(root);
    return root;
  }

  function hue(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
    return h;
  }

  function Flame(parent, F, unit) {
    var self = this, ROW = 18;
    var root = buildTree(F);
    var focus = root, matcher = null;
    var depth = 0;
    (function d(n) { if (n.depth > depth) depth = n.depth; n.list.forEach(d); })(root);
    var toolbar = add(parent, el('div', 'toolbar'));
    var search = add(toolbar, el('input'));
    search.type = 'search';
    search.placeholder = 'Search functions (regular expression)';
    var resetBtn = add(toolbar, el('button', '', 'Reset zoom'));
    var info = add(toolbar, el('span', 'muted'));
    var wrap = add(parent, el('div', 'canvaswrap'));
    var canvas = add(wrap, el('canvas'));
    var tip = add(wrap, el('div', 'tip'));
    var rects = [];
    this.root = root;

    function matches(n) { return matcher && matcher.test(n.name); }

    this.draw = function () {
      var dpr = window.devicePixelRatio || 1;
      var w = Math.max(canvas.clientWidth || parent.clientWidth || 900, 300);
      var height = (depth + 1) * ROW + 4;
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.height = height + 'px';
      var g = canvas.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, height);
      g.font = '11px ui-monospace, "DejaVu Sans Mono", monospace';
      g.textBaseline = 'middle';
      rects = [];
      var matched = 0;
      // ancestors of the focus, full width
      var anc = [], a = focus;
      while (a) { anc.unshift(a); a = a.parent; }
      function box(n, x, wd) {
        var y = n.depth * ROW;
        var hit = matches(n);
        var h = hue(n.name);
        g.fillStyle = hit ? '#e040fb' : 'hsl(' + (10 + Math.abs(h) % 45) + ',' + (70 + Math.abs(h >> 3) % 20) + '%,' + (58 + Math.abs(h >> 6) % 14) + '%)';
        if (anc.indexOf(n) >= 0 && n !== focus) g.globalAlpha = 0.55;
        g.fillRect(x, y, Math.max(wd - 1, 1), ROW - 1);
        g.globalAlpha = 1;
        if (wd > 30) {
          g.fillStyle = '#1d2126';
          var label = n.name, max = Math.floor((wd - 6) / 6.7);
          if (label.length > max) label = label.slice(0, Math.max(max - 2, 1)) + '..';
          g.fillText(label, x + 3, y + ROW / 2);
        }
        rects.push({ n: n, x: x, y: y, w: wd });
      }
      anc.forEach(function (n) { box(n, 0, w); });
      (function layout(n, x, wd) {
        var cx = x;
        n.list.forEach(function (c) {
          var cw = wd * c.value / n.value;
          if (cw >= 0.5) { box(c, cx, cw); layout(c, cx, cw); }
          cx += cw;
        });
      })(focus, 0, w);
      if (matcher) {
        (function sum(n) { if (matches(n)) { matched += n.value; return; } n.list.forEach(sum); })(root);
        info.textContent = 'Matched: ' + (100 * matched / Math.max(root.value, 1)).toFixed(1) + '% of ' + fmtInt(root.value) + ' ' + unit;
      } else {
        info.textContent = fmtInt(root.value) + ' ' + unit + '. Click a frame to zoom, click an ancestor to zoom out.';
      }
      self.frames = rects.length;
      self.matched = matched;
    };
    function at(x, y) {
      for (var i = rects.length - 1; i >= 0; i--) {
        var r = rects[i];
        if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + ROW) return r.n;
      }
      return null;
    }
    canvas.addEventListener('click', function (ev) {
      var n = at(ev.offsetX, ev.offsetY);
      if (n) self.zoom(n);
    });
    canvas.addEventListener('mousemove', function (ev) {
      var n = at(ev.offsetX, ev.offsetY);
      tip.style.display = n ? 'block' : 'none';
      if (n) {
        tip.textContent = n.name + '\n' + fmtInt(n.value) + ' ' + unit + ' (' + (100 * n.value / Math.max(root.value, 1)).toFixed(2) + '%)';
        tip.style.left = Math.min(ev.offsetX + 12, canvas.clientWidth - 260) + 'px';
        tip.style.top = (ev.offsetY + 14) + 'px';
      }
    });
    canvas.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    search.addEventListener('input', function () { self.search(search.value); });
    resetBtn.addEventListener('click', function () { self.zoom(root); });
    window.addEventListener('resize', function () { self.draw(); });
    this.zoom = function (n) { focus = n; self.draw(); };
    this.search = function (q) {
      matcher = null;
      if (q) {
        try { matcher = new RegExp(q); } catch (e) {
          matcher = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
        }
      }
      self.draw();
    };
    this.draw();
  }

  function flame(root, D) {
    var h = add(root, el('h2', '', 'Flame graph')); h.id = 'flame';
    var F = D.flame || {};
    var kinds = [['oncpu', 'On-CPU', 'samples'], ['offcpu', 'Off-CPU', 'ns']];
    var bar = add(root, el('div', 'toolbar'));
    var holder = add(root, el('div'));
    var result = { ok: false, oncpu: 0, offcpu: 0 };
    var graphs = {};
    function show(k) {
      holder.textContent = '';
      Array.prototype.forEach.call(bar.children, function (b) { b.className = b.dataset.kind === k ? 'on' : ''; });
      var data = F[k];
      var label = k === 'oncpu' ? 'no CPU samples in this recording' : 'no off-CPU stacks in this recording';
      if (!data || !data.stacks || !data.stacks.length) {
        add(holder, el('div', 'empty', label.charAt(0).toUpperCase() + label.slice(1) + '.'));
        return null;
      }
      graphs[k] = new Flame(holder, data, data.unit || kinds.filter(function (x) { return x[0] === k; })[0][2]);
      return graphs[k];
    }
    kinds.forEach(function (k) {
      var b = add(bar, el('button', '', k[1]));
      b.dataset.kind = k[0];
      b.addEventListener('click', function () { show(k[0]); });
      result[k[0]] = F[k[0]] && F[k[0]].stacks ? F[k[0]].stacks.length : 0;
    });
    var first = result.oncpu ? 'oncpu' : result.offcpu ? 'offcpu' : 'oncpu';
    var g = show(first);
    if (g) {
      // self-check: search for the heaviest leaf-side frame, zoom into a
      // child and back; all must draw frames
      var top = g.root.list[0];
      var deep = top;
      while (deep && deep.list.length) deep = deep.list[0];
      g.search(deep ? deep.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : '');
      var matched = g.matched;
      g.search('');
      g.zoom(top);
      var zoomed = g.frames;
      g.zoom(g.root);
      result.ok = g.frames > 0 && matched > 0 && zoomed > 0;
      result.frames = g.frames;
      result.search_matched = matched;
    } else {
      result.ok = true;
      result.empty = true;
    }
    check.flame = result;
  }

  /* --- sections of the text report as tables ------------------------------ */
  function sections(root, R) {
    var h = add(root, el('h2', '', 'System calls')); h.id = 'syscalls';
    table(root, [
      { key: 'name', label: 'syscall' },
      { key: 'count', label: 'calls', num: true, fmt: fmtInt },
      { key: 'errors', label: 'errors', num: true, fmt: fmtInt },
      { key: 'eagain', label: 'EAGAIN', num: true, fmt: fmtInt },
      { key: 'bytes', label: 'bytes', num: true, fmt: function (v) { return v ? fmtBytes(v) : '-'; } },
      { key: 'total_ns', label: 'total', num: true, fmt: fmtNs },
      { key: 'p50_ns', label: 'p50', num: true, fmt: fmtNs },
      { key: 'p90_ns', label: 'p90', num: true, fmt: fmtNs },
      { key: 'p99_ns', label: 'p99', num: true, fmt: fmtNs },
      { key: 'max_ns', label: 'max', num: true, fmt: fmtNs }
    ], R.syscalls, 'No traced system calls were made.');
    add(root, el('div', 'muted', 'Quantiles are estimated from log2 histograms (within a factor of 2).'));
    var slowCols = [
      { key: 'offset_ns', label: 'at', num: true, fmt: function (v) { return (v / 1e9).toFixed(3) + ' s'; } },
      { key: 'tid', label: 'tid', num: true },
      { key: 'comm', label: 'comm' },
      { key: 'syscall', label: 'syscall' },
      { key: 'fd', label: 'fd', num: true },
      { key: 'duration_ns', label: 'latency', num: true, fmt: fmtNs },
      { key: 'result', label: 'result', num: true, fmt: function (v, r) { return r.error || v; } },
      { key: 'local', label: 'local' },
      { key: 'peer', label: 'peer' }
    ];
    add(root, el('h3', '', 'Slowest calls (' + (R.slow_calls || []).length + ' of ' + R.slow_calls_total + ')'));
    table(root, slowCols, R.slow_calls, 'None over the threshold.');
    add(root, el('h3', '', 'Slowest readiness waits, idle unless data was waiting (' + (R.slow_waits || []).length + ' of ' + R.slow_waits_total + ')'));
    table(root, slowCols, R.slow_waits, 'None over the threshold.');

    h = add(root, el('h2', '', 'Threads')); h.id = 'threads';
    table(root, [
      { key: 'tid', label: 'tid', num: true },
      { key: 'comm', label: 'comm' },
      { key: 'on_cpu_ns', label: 'on-CPU', num: true, fmt: function (v) { return v === null ? '-' : fmtNs(v); } },
      { key: 'runnable_ns', label: 'runnable', num: true, fmt: function (v) { return v === null ? '-' : fmtNs(v); } },
      { key: 'off_cpu_ns', label: 'off-CPU', num: true, fmt: function (v) { return v === null ? '-' : fmtNs(v); } },
      { key: 'syscalls', label: 'calls', num: true, fmt: fmtInt },
      { key: 'syscall_ns', label: 'in syscalls', num: true, fmt: fmtNs },
      { key: 'wait_ns', label: 'in waits', num: true, fmt: fmtNs },
      { key: 'exited', label: 'exited', fmt: function (v) { return v ? 'yes' : ''; } }
    ], R.threads, 'No threads seen.');

    h = add(root, el('h2', '', 'Sockets, NIC, CPUs')); h.id = 'network';
    add(root, el('h3', '', 'Sockets'));
    autoTable(root, R.sockets, 'Not collected in this recording.');
    add(root, el('h3', '', 'Interfaces'));
    autoTable(root, R.interfaces, 'Not collected in this recording.');
    add(root, el('h3', '', 'CPUs: NET_RX/NET_TX softirq and softnet'));
    autoTable(root, R.cpus, 'Not collected in this recording.');
    add(root, el('h3', '', 'Exchanges'));
    if (R.exchanges && R.exchanges.slowest) autoTable(root, R.exchanges.slowest, 'None.');
    else add(root, el('div', 'empty', 'Not collected in this recording.'));

    h = add(root, el('h2', '', 'Sources')); h.id = 'sources';
    table(root, [
      { key: 'name', label: 'source' }, { key: 'status', label: 'status' }, { key: 'detail', label: 'detail' }
    ], R.sources);
    add(root, el('div', 'muted', 'Lost events: ' + fmtInt(R.lost_events) + '.'));
    var O = R.overhead;
    if (O && O.measured) {
      var shed = (O.shed || []).map(function (s) {
        return '+' + (s.offset_ns / 1e9).toFixed(1) + ' s step ' + s.step + ' ' + s.source + ' ' +
          s.what + ' ' + s.from + ' \u2192 ' + s.to;
      });
      add(root, el('div', 'muted', 'Overhead: budget ' + (O.budget_cpu_share * 100).toFixed(2) +
        '% of one CPU; measured median ' + (O.measured.median * 100).toFixed(1) + '%, max ' +
        (O.measured.max * 100).toFixed(1) + '% (BPF run time ' + (O.bpf_stats ? 'measured' : 'estimated') +
        '); ' + (shed.length ? 'shed: ' + shed.join('; ') : 'nothing shed') + '.'));
      if (O.caveat) add(root, el('div', 'muted', O.caveat));
    }
  }

  function rules(root, D) {
    var h = add(root, el('h2', '', 'Rules')); h.id = 'rules';
    add(root, el('div', 'muted', 'Every threshold the findings use; a row whose inputs were not measured does not fire.'));
    function thr(v) { return v ? v : ''; }
    table(root, [
      { key: 'cause', label: 'cause' }, { key: 'metric', label: 'metric' }, { key: 'condition', label: 'condition' },
      { key: 'unit', label: 'unit' },
      { key: 'info', label: 'info', num: true, fmt: thr }, { key: 'warning', label: 'warning', num: true, fmt: thr },
      { key: 'critical', label: 'critical', num: true, fmt: thr }
    ], D.rules || []);
  }

  function writeCheck() {
    var out = document.getElementById('np-selfcheck');
    if (!out) {
      out = el('pre');
      out.id = 'np-selfcheck';
      document.body.appendChild(out);
    }
    out.setAttribute('data-status', check.status);
    out.textContent = JSON.stringify(check);
  }

  function main() {
    var app = document.getElementById('app');
    app.textContent = '';
    var root = add(app, el('main'));
    var D;
    try {
      D = JSON.parse(document.getElementById('np-data').textContent);
    } catch (e) {
      add(root, el('div', 'error', 'The report data could not be read: ' + e.message));
      check.status = 'error';
      check.errors.push('data: ' + e.message);
      writeCheck();
      return;
    }
    var R = D.report;
    var steps = [
      function () { header(root, R); }, function () { verdict(root, R); }, function () { findings(root, R); },
      function () { timeline(root, D); }, function () { flame(root, D); }, function () { sections(root, R); },
      function () { rules(root, D); }
    ];
    steps.forEach(function (step) {
      try { step(); } catch (e) {
        check.errors.push(String(e && e.stack || e));
        add(root, el('div', 'error', 'Part of the report could not be drawn: ' + e.message));
      }
    });
    check.status = check.errors.length ? 'error' : (check.timeline && check.timeline.ok && check.flame && check.flame.ok ? 'ok' : 'incomplete');
    writeCheck();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
  else main();
})();
