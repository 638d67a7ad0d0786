#!/usr/bin/env node
// A realistic node-vault session through Gatehouse, on one keep-alive connection.
//
//   node tests/clients/node/node_vault_session.js --address http://127.0.0.1:8100 \
//        --auto-auth-token-file /tmp/gatehouse-dev-XXXX/token --run-id node-tcp
//   node tests/clients/node/node_vault_session.js --address unix:///tmp/gatehouse.sock ...
//
// node-vault comes from tests/clients/node/package-lock.json (scripts/install-test-deps.sh runs `npm ci`).
// node-vault 0.12 sends its requests with axios; axios takes a caller's http.Agent (requestOptions.httpAgent), so
// the session passes one keep-alive agent that allows a single socket, and counts the sockets it opens. For a unix
// socket the same agent connects to the socket path (node-vault does not forward axios's socketPath option).
//
// The client sends no token of its own: Gatehouse adds its auto-auth token (use_auto_auth_token = true). The Vault
// behind Gatehouse needs KV v2 at secret/, KV v1 at kv/, and tests/clients/session-policy.hcl as the auto-auth
// token's policy: tests/clients/prepare-dev.sh sets up a running `gatehouse dev` that way.
//
// Prints each step; exits 1 at the first failed check with the step, the reason and the last exchanges, and 3 when
// node-vault is not installed.
'use strict';

const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const util = require('util');

// The session must reach Gatehouse directly, whatever proxy the calling environment names (axios reads these).
for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']) {
    delete process.env[name];
}
process.env.NO_PROXY = process.env.no_proxy = '*';
// node-vault falls back to VAULT_TOKEN when no token is given: this session must send none.
delete process.env.VAULT_TOKEN;

let nodeVault;
try {
    nodeVault = require('node-vault');
} catch (e) {
    console.log(`FAIL: node-vault is not installed in ${__dirname}/node_modules (${e.message.split('\n')[0]}); run scripts/install-test-deps.sh`);
    process.exit(3);
}

class CheckFailed extends Error {}

function parseArgs(argv) {
    const args = { runId: 'node' };
    for (let i = 2; i < argv.length; i++) {
        const [flag, inline] = argv[i].split(/=(.*)/s, 2);
        const value = inline !== undefined ? inline : argv[++i];
        if (flag === '--address') args.address = value;
        else if (flag === '--auto-auth-token-file') args.tokenFile = value;
        else if (flag === '--run-id') args.runId = value;
        else throw new Error(`unknown argument ${argv[i]}`);
    }
    if (!args.address || !args.tokenFile) {
        throw new Error('usage: node_vault_session.js --address http://HOST:PORT|unix:///PATH --auto-auth-token-file PATH [--run-id ID]');
    }
    return args;
}

// ---- the wire: one agent, one socket; every socket opened and every response is remembered -----------------------

const connects = []; // a description of each socket the agent opened
const exchanges = []; // { method, path, status, body, connections } for each response, in order
const attempts = []; // { method, path } of each request sent

function makeAgent(address) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const unixPath = address.startsWith('unix://') ? address.slice('unix://'.length) : null;
    const create = unixPath
        ? (options, callback) => net.createConnection({ path: unixPath }, callback)
        : http.Agent.prototype.createConnection.bind(agent);
    agent.createConnection = (options, callback) => {
        const socket = create(options, callback);
        const n = connects.length + 1;
        connects.push(`#${n} ${unixPath ? `unix socket ${unixPath}` : `tcp ${options.host}:${options.port}`}`);
        if (!unixPath) {
            socket.once('connect', () => {
                connects[n - 1] += ` from local port ${socket.localPort}`;
            });
        }
        return socket;
    };
    return agent;
}

function makeClient(endpoint, agent, token) {
    const client = nodeVault({ endpoint, token, requestOptions: { httpAgent: agent } });
    // node-vault hands every raw response ({statusCode, body, request.path}) to client.handleVaultResponse.
    const handle = client.handleVaultResponse;
    client.handleVaultResponse = (response) => {
        if (response) {
            const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
            exchanges.push({
                method: attempts.length ? attempts[attempts.length - 1].method : '?',
                path: response.request.path,
                status: response.statusCode,
                body: body || '',
                connections: connects.length,
            });
        }
        return handle(response);
    };
    const request = client.request;
    client.request = (options = {}) => {
        attempts.push({ method: options.method, path: `/${client.apiVersion}${options.path}` });
        return request(options);
    };
    return client;
}

// ---- checks -------------------------------------------------------------------------------------------------------

let stepName = '';

function step(name) {
    stepName = name;
    console.log(`==> ${name}`);
}

function ok(detail) {
    expectOneConnection();
    console.log(`    ok: ${detail}`);
}

function check(condition, message) {
    if (!condition) throw new CheckFailed(message);
}

function last() {
    check(exchanges.length > 0, 'no response was received');
    return exchanges[exchanges.length - 1];
}

function expectStatus(status, what) {
    const e = last();
    check(e.status === status, `${what}: expected HTTP ${status}, got ${e.status} from ${e.method} ${e.path}: ${e.body.slice(0, 500)}`);
}

async function expectError(status, call, what) {
    try {
        await call();
    } catch (e) {
        if (!e.response) throw e; // not an answer from Vault: a transport failure, reported as such
        expectStatus(status, what);
        return;
    }
    throw new CheckFailed(`${what}: expected HTTP ${status}, but the call succeeded: ${JSON.stringify(last())}`);
}

function expectOneConnection() {
    if (connects.length <= 1) return;
    const i = exchanges.findIndex((e) => e.connections > 1);
    if (i < 0) throw new CheckFailed(`a second connection was opened: ${connects.join('; ')}`);
    const before = i > 0 ? exchanges[i - 1] : null;
    const after = exchanges[i];
    throw new CheckFailed(
        `the keep-alive connection did not survive: the client had to open a second connection for ${after.method} ${after.path}. ` +
            `The last answer on the first connection was ${before ? `${before.method} ${before.path} -> ${before.status} ${JSON.stringify(before.body.slice(0, 200))}` : 'none'}. ` +
            `Connections: ${connects.join('; ')}`,
    );
}

function same(a, b) {
    return util.isDeepStrictEqual(a, b);
}

// ---- the session --------------------------------------------------------------------------------------------------

async function run(args) {
    const endpoint = args.address.startsWith('unix://') ? 'http://localhost' : args.address.replace(/\/$/, '');
    const agent = makeAgent(args.address);
    const vault = makeClient(endpoint, agent, undefined);
    const p = `gatehouse-clients/${args.runId}`;

    step('GET sys/health');
    const health = await vault.health();
    check(health.initialized === true && health.sealed === false, `unexpected health answer: ${JSON.stringify(health)}`);
    ok(`initialized, unsealed, version ${health.version}; connected: ${connects[0]}`);

    step('lookup-self with no client token (Gatehouse adds its auto-auth token and redacts it)');
    const me = await vault.tokenLookupSelf();
    const token = fs.readFileSync(args.tokenFile, 'utf8').trim();
    check(token && !last().body.includes(token), `the lookup-self answer contains the auto-auth token: ${last().body.slice(0, 500)}`);
    check(me.data.policies.includes('dev'), `expected the auto-auth token's policies to include dev: ${JSON.stringify(me.data)}`);
    check(!me.data.id, `lookup-self data.id should be redacted, got ${JSON.stringify(me.data.id)}`);
    ok(`policies ${JSON.stringify(me.data.policies)}, id redacted, the token from the sink appears nowhere in the answer`);

    step(`KV v2: write two versions of secret/${p}/app`);
    const first = await vault.write(`secret/data/${p}/app`, { data: { user: 'app', password: 'first' } });
    const second = await vault.write(`secret/data/${p}/app`, { data: { user: 'app', password: 'päss-2 ✓' } });
    check(first.data.version === 1 && second.data.version === 2, `expected versions 1 and 2: ${JSON.stringify([first.data, second.data])}`);
    ok('versions 1 and 2');

    step('KV v2: read the latest and version 1');
    const latest = await vault.read(`secret/data/${p}/app`);
    const old = await vault.read(`secret/data/${p}/app?version=1`);
    check(same(latest.data.data, { user: 'app', password: 'päss-2 ✓' }), `latest read: ${JSON.stringify(latest.data)}`);
    check(latest.data.metadata.version === 2, `latest metadata: ${JSON.stringify(latest.data.metadata)}`);
    check(old.data.data.password === 'first', `version 1 read: ${JSON.stringify(old.data)}`);
    ok('values round-trip (non-ASCII included)');

    step(`KV v2: LIST secret/metadata/${p}`);
    await vault.write(`secret/data/${p}/other`, { data: { x: '1' } });
    const listed = await vault.list(`secret/metadata/${p}`);
    check(same([...listed.data.keys].sort(), ['app', 'other']), `expected keys [app, other]: ${JSON.stringify(listed.data)}`);
    ok(`keys ${JSON.stringify(listed.data.keys)}`);

    step('KV v2: delete the latest version (204), then read it (404)');
    await vault.delete(`secret/data/${p}/app`);
    expectStatus(204, `DELETE secret/data/${p}/app`);
    await expectError(404, () => vault.read(`secret/data/${p}/app`), 'read of a deleted version');
    ok('204, then 404');

    step('KV v2: delete metadata and all versions (204 each), then list (404)');
    await vault.delete(`secret/metadata/${p}/app`);
    expectStatus(204, `DELETE secret/metadata/${p}/app`);
    await vault.delete(`secret/metadata/${p}/other`);
    expectStatus(204, `DELETE secret/metadata/${p}/other`);
    await expectError(404, () => vault.list(`secret/metadata/${p}`), 'list after deleting everything');
    ok('204, 204, then 404');

    step(`KV v1: write kv/${p}/db (204) and read it back`);
    await vault.write(`kv/${p}/db`, { url: 'postgres://db:5432/app', n: 3 });
    expectStatus(204, `POST kv/${p}/db`);
    const got = await vault.read(`kv/${p}/db`);
    check(same(got.data, { url: 'postgres://db:5432/app', n: 3 }), `KV v1 read: ${JSON.stringify(got)}`);
    ok('value round-trips');

    step(`KV v1: LIST kv/${p}`);
    const keys = (await vault.list(`kv/${p}`)).data.keys;
    check(same(keys, ['db']), `expected keys [db], got ${JSON.stringify(keys)}`);
    ok(`keys ${JSON.stringify(keys)}`);

    step('KV v1: wrapped read (X-Vault-Wrap-TTL: 60s), then unwrap with the wrapping token as the client token');
    const wrapped = await vault.read(`kv/${p}/db`, { headers: { 'X-Vault-Wrap-TTL': '60s' } });
    const info = wrapped.wrap_info || {};
    check(info.token && wrapped.data === null, `expected a wrapped answer, got ${JSON.stringify(wrapped)}`);
    check(info.creation_path === `kv/${p}/db`, `wrap_info.creation_path: ${JSON.stringify(info)}`);
    const unwrapped = await makeClient(endpoint, agent, info.token).unwrap();
    check(same(unwrapped.data, { url: 'postgres://db:5432/app', n: 3 }), `unwrapped: ${JSON.stringify(unwrapped)}`);
    await expectError(400, () => vault.unwrap({ token: info.token }), 'a second unwrap of the same token');
    ok('unwrapped once; a second unwrap is refused');

    step('KV v1: delete (204), then read (404)');
    await vault.delete(`kv/${p}/db`);
    expectStatus(204, `DELETE kv/${p}/db`);
    await expectError(404, () => vault.read(`kv/${p}/db`), 'read of a deleted KV v1 secret');
    ok('204, then 404');

    step('token create (a child of the auto-auth token)');
    const created = await vault.tokenCreate({ policies: ['default'], ttl: '10m', meta: { run: args.runId, client: 'node-vault' } });
    const child = created.auth.client_token;
    check(child && same(created.auth.policies, ['default']), `token create: ${JSON.stringify(created.auth)}`);
    // node-vault adopts the token it created as its own (tokenSource); this session goes on as the app, token-less.
    check(vault.token === child, 'node-vault 0.12 was expected to adopt the created token');
    vault.token = undefined;
    ok(`policies ${JSON.stringify(created.auth.policies)}, ttl ${created.auth.lease_duration}s`);

    step('token lookup (by the auto-auth token) and lookup-self (by the child itself: not redacted)');
    const looked = await vault.tokenLookup({ token: child });
    check(looked.data.id === child && same(looked.data.meta, { run: args.runId, client: 'node-vault' }), `lookup: ${JSON.stringify(looked.data)}`);
    const own = await makeClient(endpoint, agent, child).tokenLookupSelf();
    check(own.data.id === child, `the child's own lookup-self must show its id: ${JSON.stringify(own.data)}`);
    ok("both show the child's id and meta");

    step('token revoke (204), then lookup (403)');
    await vault.tokenRevoke({ token: child });
    expectStatus(204, 'POST auth/token/revoke');
    await expectError(403, () => vault.tokenLookup({ token: child }), 'lookup of a revoked token');
    ok('204, then 403');

    step('wrapped token create (X-Vault-Wrap-TTL: 60s), then sys/wrapping/unwrap with the token in the body');
    const wrappedCreate = await vault.tokenCreate({
        policies: ['default'], ttl: '10m', meta: { run: args.runId, wrapped: 'yes' },
        requestOptions: { headers: { 'X-Vault-Wrap-TTL': '60s' } },
    });
    const winfo = wrappedCreate.wrap_info || {};
    check(winfo.token && wrappedCreate.auth === null, `expected a wrapped token create, got ${JSON.stringify(wrappedCreate)}`);
    check(winfo.creation_path === 'auth/token/create', `wrap_info.creation_path: ${JSON.stringify(winfo)}`);
    check(vault.token === undefined, 'node-vault must not adopt a wrapped answer as its token');
    const unwrappedToken = await vault.unwrap({ token: winfo.token });
    const inner = unwrappedToken.auth && unwrappedToken.auth.client_token;
    check(inner, `the unwrapped answer has no auth.client_token: ${JSON.stringify(unwrappedToken)}`);
    const innerLookup = await vault.tokenLookup({ token: inner });
    check(same(innerLookup.data.meta, { run: args.runId, wrapped: 'yes' }), `lookup of the unwrapped token: ${JSON.stringify(innerLookup.data)}`);
    await vault.tokenRevoke({ token: inner });
    expectStatus(204, 'POST auth/token/revoke (unwrapped token)');
    ok('unwrapped a working token, then revoked it');

    step('the whole session used one connection');
    check(exchanges.length > 20, `expected more than 20 exchanges, saw ${exchanges.length}`);
    check(connects.length === 1, `expected exactly one connection, saw ${connects.length}`);
    ok(`${exchanges.length} requests on one connection (${connects[0]})`);
    agent.destroy();
}

function fail(message) {
    console.log(`FAIL: step "${stepName}": ${message}`);
    console.log(`connections opened: ${connects.join('; ') || 'none'}`);
    console.log('last exchanges:');
    for (const e of exchanges.slice(-4)) {
        console.log(`    [connection ${e.connections}] ${e.method} ${e.path} -> ${e.status} ${e.body.slice(0, 300)}`);
    }
    process.exit(1);
}

async function main() {
    const args = parseArgs(process.argv);
    const version = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('node-vault')), '..', 'package.json'), 'utf8')).version;
    console.log(`node-vault session through Gatehouse at ${args.address} (node-vault ${version}, node ${process.version})`);
    try {
        await run(args);
    } catch (e) {
        if (e instanceof CheckFailed) fail(e.message);
        const pending = attempts.length > exchanges.length ? attempts[attempts.length - 1] : null;
        const where = pending ? ` (no answer to ${pending.method} ${pending.path})` : '';
        const answer = e.response ? ` [HTTP ${e.response.statusCode} ${JSON.stringify(e.response.body)}]` : '';
        // A transport error (axios: ECONNRESET, EPIPE, ...) says enough with its code; anything else keeps its stack.
        const stack = e.code ? '' : `\n${(e.stack || '').split('\n').slice(1, 4).join('\n')}`;
        fail(`${e.name}: ${e.code ? `${e.code} ` : ''}${e.message}${answer}${where}${stack}`);
    }
    console.log(`PASS: node-vault session over ${args.address}`);
}

main();
