// Per-run timing records for the Node benchmark apps: the same contract as common.py's
// RunRecorder, so bench_core's driver reads them alike (GET /bench/wait, GET /bench/stats).
"use strict";

const http = require("node:http");

class RunRecorder {
  constructor() {
    this.runs = {};
    this.finalByPhase = {};
    this.totalCalls = 0;
    this.waiters = [];
  }

  // One call (or handler attempt) of a run; returns the run's record.
  call(runId, arrived, data) {
    this.totalCalls += 1;
    let rec = this.runs[runId];
    if (rec === undefined) {
      const d = data && typeof data === "object" ? data : {};
      rec = {
        first: arrived,
        final: null,
        calls: 0,
        sent_at: typeof d.sent_at === "number" ? d.sent_at : null,
        phase: typeof d.phase === "string" ? d.phase : "",
      };
      this.runs[runId] = rec;
    }
    rec.calls += 1;
    return rec;
  }

  final(rec, arrived) {
    if (rec.final !== null) {
      rec.dup_final = (rec.dup_final || 0) + 1;
      return;
    }
    rec.final = arrived;
    const count = (this.finalByPhase[rec.phase] || 0) + 1;
    this.finalByPhase[rec.phase] = count;
    this.waiters = this.waiters.filter((w) => {
      if (w.phase === rec.phase && count >= w.n) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  count(phase) {
    return this.finalByPhase[phase] || 0;
  }

  async wait(phase, n, secs) {
    if (this.count(phase) < n) {
      await new Promise((resolve) => {
        const w = { phase, n, resolve };
        this.waiters.push(w);
        setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve();
        }, secs * 1000);
      });
    }
    return {
      phase,
      final: this.count(phase),
      calls: this.totalCalls,
      runs: Object.keys(this.runs).length,
      done: this.count(phase) >= n,
    };
  }

  stats() {
    return { runs: this.runs, calls: this.totalCalls, final_by_phase: this.finalByPhase };
  }

  // Answers /bench/wait and /bench/stats; returns false for any other path.
  async serveBench(req, res) {
    const url = new URL(req.url, "http://x");
    let body;
    if (url.pathname === "/bench/wait") {
      const q = url.searchParams;
      body = await this.wait(q.get("phase") || "", Number(q.get("n") || 0), Number(q.get("secs") || 0));
    } else if (url.pathname === "/bench/stats") {
      body = this.stats();
    } else {
      return false;
    }
    const raw = JSON.stringify(body);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(raw) });
    res.end(raw);
    return true;
  }

  // A plain HTTP server for the bench routes alone (apps whose main port speaks something else).
  listen(port) {
    const server = http.createServer((req, res) => {
      this.serveBench(req, res).then((served) => {
        if (!served) {
          res.writeHead(404);
          res.end();
        }
      });
    });
    server.keepAliveTimeout = 60000;
    return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
  }
}

module.exports = { RunRecorder };
