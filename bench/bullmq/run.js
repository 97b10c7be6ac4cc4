#!/usr/bin/env node
// Baseline of the sync benchmark: a minimal, faithful Node.js version of the design dwu_crm
// replaces (shared/design/anexo18-dinamize-redis.md: NestJS + BullMQ + Redis + PostgreSQL).
// One command = one measured run:
//   1. recreate the tables (schema.sql) and insert N leads, each with a 'pending' crm_lead_sync
//      row, as DinamizeSyncService does before it enqueues (anexo18 §1.3 steps 1-2);
//   2. empty the queue and enqueue one BullMQ job per lead (not timed);
//   3. start a Worker with the given concurrency and the clock; each job does what
//      DinamizeSyncProcessor does: token from the Redis cache (TokenCacheService; POST /auth on a
//      miss), read the lead from Postgres, POST /emkt/contact/add, upsert crm_lead_sync and write a
//      crm_sync_logs row;
//   4. stop the clock when all N jobs have completed (or failed for good), close everything and
//      print ONE line on stdout:  sent=N ok=N failed=N seconds=S per_second=R concurrency=C
// Exit 0 when every job succeeded, 1 when one failed for good or anything else went wrong, 2 on
// bad options. Everything else goes to stderr.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const https = require('node:https');
const { Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');
const { Pool } = require('pg');

const QUEUE_NAME = 'dinamize-sync';
const USAGE =
  'usage: node run.js --sim-url http://127.0.0.1:PORT --user U --password P --client-code C\n' +
  '                   --pg-url postgres://... --redis-port P [--redis-host 127.0.0.1]\n' +
  '                   [--list 7] [--concurrency 5] [--count 1000] [--prefix bullmq]\n' +
  '                   [--timeout-seconds 3600]\n' +
  '  Leads get e-mails PREFIX.I@example.com; the simulator refuses an e-mail already in the list,\n' +
  '  so a second run against the same simulator needs another --prefix (or a fresh simulator).\n';

function parseOptions(argv) {
  const o = {
    simUrl: '', user: '', password: '', clientCode: '', list: '7', pgUrl: '',
    redisHost: '127.0.0.1', redisPort: 0, concurrency: 5, count: 1000, prefix: 'bullmq', timeoutSeconds: 3600,
  };
  const names = {
    '--sim-url': 'simUrl', '--user': 'user', '--password': 'password', '--client-code': 'clientCode',
    '--list': 'list', '--pg-url': 'pgUrl', '--redis-host': 'redisHost', '--redis-port': 'redisPort',
    '--concurrency': 'concurrency', '--count': 'count', '--prefix': 'prefix', '--timeout-seconds': 'timeoutSeconds',
  };
  const integers = new Set(['redisPort', 'concurrency', 'count', 'timeoutSeconds']);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    const key = names[flag];
    if (!key) throw new Error(`unknown option ${flag}`);
    if (i + 1 >= argv.length) throw new Error(`missing value after ${flag}`);
    const value = argv[++i];
    if (integers.has(key)) {
      if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`${flag} needs an integer >= 1`);
      o[key] = Number(value);
    } else {
      o[key] = value;
    }
  }
  for (const [flag, key] of [['--sim-url', 'simUrl'], ['--user', 'user'], ['--password', 'password'],
    ['--client-code', 'clientCode'], ['--pg-url', 'pgUrl'], ['--redis-port', 'redisPort']]) {
    if (!o[key]) throw new Error(`${flag} is required`);
  }
  return o;
}

const log = (msg) => process.stderr.write(`bullmq-bench: ${msg}\n`);

// --- Dinamize HTTP client (the design's DinamizeApiClient over NestJS HttpService/axios) -------
// Same requests as bench/bare_client.cpp: POST /auth {user, password, client_code}, then
// POST /emkt/contact/add {contact-list_code, email, name} with header auth-token; success is
// envelope code "480001". Keep-alive agent with one socket per concurrent job, 20 s timeout
// (Dinamize's documented per-request timeout).
class DinamizeApiClient {
  constructor(baseUrl, maxSockets) {
    this.base = new URL(baseUrl);
    this.transport = this.base.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  post(pathname, body, headers = {}) {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = this.transport.request({
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: this.base.port,
        path: pathname,
        method: 'POST',
        agent: this.agent,
        timeout: 20000,
        headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length, ...headers },
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`POST ${pathname}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error(`POST ${pathname}: not JSON: ${text.slice(0, 200)}`));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`POST ${pathname}: timeout`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close() {
    this.agent.destroy();
  }
}

// --- DinamizeAuthService + TokenCacheService (anexo18 §4.1, §4.3, §7) ---------------------------
// Token cached (plain) in Redis with a 1 h TTL; every job GETs it from Redis. On a miss: POST /auth
// and SET it. Concurrent misses in this process share one login (the brief: auth once). Left out:
// the encrypted copy in crm_auth_tokens (PostgreSQL), only read on a Redis miss in the design.
class TokenCache {
  constructor(redis, api, o) {
    this.redis = redis;
    this.api = api;
    this.o = o;
    this.key = `dinamize:token:${o.clientCode}`;
    this.pending = null;
  }

  async get() {
    const cached = await this.redis.get(this.key);
    if (cached) return cached;
    if (!this.pending) this.pending = this.login().finally(() => { this.pending = null; });
    return this.pending;
  }

  async login() {
    const answer = await this.api.post('/auth', {
      user: this.o.user, password: this.o.password, client_code: this.o.clientCode,
    });
    const token = answer && answer.body && answer.body['auth-token'];
    if (answer.code !== '480001' || !token) throw new Error(`POST /auth failed: ${JSON.stringify(answer).slice(0, 200)}`);
    await this.redis.set(this.key, token, 'EX', 3600);
    this.logins = (this.logins || 0) + 1;
    return token;
  }

  invalidate() {
    return this.redis.del(this.key);
  }
}

// --- DinamizeSyncProcessor (anexo18 §4.5) ------------------------------------------------------
function makeProcessor(pool, api, tokens) {
  return async (job) => {
    const { leadId, listCode } = job.data;
    try {
      const token = await tokens.get();
      const { rows } = await pool.query(
        'SELECT dwu_id, dwu_name, dwu_email, dwu_phone FROM crm_leads WHERE dwu_id = $1', [leadId]);
      if (rows.length === 0) throw new Error(`lead ${leadId} not found`);
      const lead = rows[0];
      const answer = await api.post('/emkt/contact/add',
        { 'contact-list_code': listCode, email: lead.dwu_email, name: lead.dwu_name },
        { 'auth-token': token });
      const contactCode = answer && answer.body && answer.body.code;
      if (answer.code !== '480001' || !contactCode) {
        // 240024 would be the rate limit (the design blocks for retry-after); anything else may
        // be an expired token: drop the cached one so the retry logs in again.
        if (answer.code !== '240024') await tokens.invalidate();
        throw new Error(`contact/add: ${answer.code} ${answer.code_detail || ''}`);
      }
      await pool.query(
        `INSERT INTO crm_lead_sync (dwu_lead_id, dwu_dinamize_contact_id, dwu_list_id, dwu_sync_status, last_sync)
         VALUES ($1, $2, $3, 'synced', now())
         ON CONFLICT (dwu_lead_id, dwu_list_id) DO UPDATE
           SET dwu_dinamize_contact_id = EXCLUDED.dwu_dinamize_contact_id,
               dwu_sync_status = 'synced', last_sync = EXCLUDED.last_sync`,
        [leadId, contactCode, listCode]);
      await pool.query(
        `INSERT INTO crm_sync_logs (dwu_lead_id, action, status, response) VALUES ($1, 'contact/add', 'success', $2)`,
        [leadId, JSON.stringify(answer)]);
      return { contactCode };
    } catch (err) {
      // Bookkeeping of the failed attempt, then rethrow: BullMQ retries (3 attempts, 5/10/20 s).
      await pool.query(
        `INSERT INTO crm_sync_logs (dwu_lead_id, action, status, error) VALUES ($1, 'contact/add', 'error', $2)`,
        [leadId, String(err && err.message)]).catch(() => {});
      await pool.query(
        `UPDATE crm_lead_sync SET dwu_sync_status = 'failed', last_sync = now()
          WHERE dwu_lead_id = $1 AND dwu_list_id = $2`, [leadId, listCode]).catch(() => {});
      throw err;
    }
  };
}

async function main() {
  let o;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bullmq-bench: ${e.message}\n${USAGE}`);
    process.exit(2);
  }

  // Pool size = concurrency, so no job waits for a connection (a TypeORM default pool is 10).
  const pool = new Pool({ connectionString: o.pgUrl, max: o.concurrency });
  const connection = { host: o.redisHost, port: o.redisPort, maxRetriesPerRequest: null };
  const cacheRedis = new IORedis({ host: o.redisHost, port: o.redisPort, maxRetriesPerRequest: 1 });
  const api = new DinamizeApiClient(o.simUrl, o.concurrency);
  const tokens = new TokenCache(cacheRedis, api, o);
  const queue = new Queue(QUEUE_NAME, { connection });
  let worker = null;
  let timer = null;

  const closeAll = async () => {
    if (timer) clearTimeout(timer);
    if (worker) await worker.close().catch(() => {});
    await queue.close().catch(() => {});
    await cacheRedis.quit().catch(() => {});
    await pool.end().catch(() => {});
    api.close();
  };

  try {
    await cacheRedis.ping();  // fails fast (the queue's connection would retry forever)
    // (1) schema + leads + their 'pending' crm_lead_sync rows.
    await pool.query(fs.readFileSync(path.join(__dirname, 'schema.sql'), 'utf8'));
    const { rows } = await pool.query(
      `INSERT INTO crm_leads (dwu_name, dwu_email, dwu_phone)
       SELECT 'BullMQ ' || i, $2 || '.' || i || '@example.com', '+5511' || lpad(i::text, 9, '0')
         FROM generate_series(1, $1::int) AS i ORDER BY i
       RETURNING dwu_id`, [o.count, o.prefix]);
    await pool.query(
      `INSERT INTO crm_lead_sync (dwu_lead_id, dwu_list_id, dwu_sync_status)
       SELECT dwu_id, $1, 'pending' FROM crm_leads`, [o.list]);
    await pool.query('ANALYZE crm_leads, crm_lead_sync');
    // Open every pool connection now, untimed: a running service has a warm pool.
    const warm = await Promise.all(Array.from({ length: o.concurrency }, () => pool.connect()));
    warm.forEach((c) => c.release());

    // (2) empty queue and token cache, enqueue one job per lead (anexo18 §8.2 job options).
    await queue.obliterate({ force: true });
    await tokens.invalidate();
    const jobOpts = {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },  // 5 s, 10 s, 20 s
      removeOnComplete: { age: 3600 },                 // completed jobs kept 1 h
      removeOnFail: { age: 24 * 3600 },                // failed jobs kept 24 h
    };
    for (let i = 0; i < rows.length; i += 5000) {
      await queue.addBulk(rows.slice(i, i + 5000).map((r) => ({
        name: 'sync-lead',
        data: { leadId: r.dwu_id, listCode: o.list, clientCode: o.clientCode },
        opts: jobOpts,
      })));
    }
    log(`enqueued ${rows.length} jobs`);

    // (3) the worker. The design has limiter {max: 60, duration: 60000} (anexo18 §8.1); the
    // benchmark takes the rate limiter out of the way for every system measured, so NO limiter.
    let ok = 0;
    let failed = 0;
    let firstFailure = '';
    let t0 = 0;
    let t1 = 0;
    const finished = new Promise((resolve, reject) => {
      const check = () => {
        if (ok + failed >= o.count) {
          t1 = process.hrtime.bigint();
          resolve();
        }
      };
      worker = new Worker(QUEUE_NAME, makeProcessor(pool, api, tokens),
        { connection, concurrency: o.concurrency, autorun: false });
      worker.on('completed', () => { ok++; check(); });
      worker.on('failed', (job, err) => {
        if (!job || job.attemptsMade >= (job.opts.attempts || 1)) {  // failed for good
          failed++;
          if (!firstFailure) firstFailure = String(err && err.message);
          check();
        } else {
          log(`job ${job.id} attempt ${job.attemptsMade} failed: ${err && err.message}`);
        }
      });
      worker.on('error', (err) => log(`worker error: ${err && err.message}`));
      timer = setTimeout(() => reject(new Error(`timed out after ${o.timeoutSeconds} s (${ok} ok, ${failed} failed)`)),
        o.timeoutSeconds * 1000);
    });
    await worker.waitUntilReady();
    t0 = process.hrtime.bigint();
    worker.run().catch((err) => log(`worker.run: ${err && err.message}`));
    await finished;

    // (4) report.
    const seconds = Number(t1 - t0) / 1e9;
    await closeAll();
    if (firstFailure) log(`first failure: ${firstFailure}`);
    log(`logins: ${tokens.logins || 0}`);
    process.stdout.write(`sent=${o.count} ok=${ok} failed=${failed} seconds=${seconds.toFixed(3)} ` +
      `per_second=${(ok / seconds).toFixed(1)} concurrency=${o.concurrency}\n`);
    process.exit(failed > 0 ? 1 : 0);
  } catch (err) {
    log(`error: ${err && err.stack ? err.stack : err}`);
    await closeAll();
    process.exit(1);
  }
}

main();
