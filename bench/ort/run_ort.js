#!/usr/bin/env node
// ONNX Runtime (CPU execution provider, onnxruntime-node) side of the inference benchmark.
// Same protocol as bench/infer_bench.cc, so the two numbers compare:
//   the first `batch` images of --input (or seeded uniform [0,1) data of --shape), `warmup`
//   untimed runs, then timed runs until --iters are done or --max-seconds have passed (at least
//   one), images/s = batch * runs / seconds. The last output is written to --output (.npy).
//
//   node run_ort.js --model m.onnx --input x.npy --batch 32 [--output y.npy] [--threads 2]
//                   [--warmup 1] [--iters 20] [--max-seconds 10] [--shape 3,32,32] [--seed 1]
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const args = {threads: 2, warmup: 1, iters: 20, maxSeconds: 10, seed: 1, batch: 1};
  const names = {
    '--model': 'model', '--input': 'input', '--output': 'output', '--batch': 'batch',
    '--threads': 'threads', '--warmup': 'warmup', '--iters': 'iters',
    '--max-seconds': 'maxSeconds', '--shape': 'shape', '--seed': 'seed', '--name': 'name',
  };
  for (let i = 2; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`unknown or incomplete option '${argv[i]}'`);
    const text = argv[i + 1];
    args[key] = ['model', 'input', 'output', 'shape', 'name'].includes(key) ? text : Number(text);
    if (typeof args[key] === 'number' && !Number.isFinite(args[key])) {
      throw new Error(`${argv[i]} expects a number, got '${text}'`);
    }
  }
  if (!args.model) throw new Error('--model is required');
  if (!args.input && !args.shape) throw new Error('give --input x.npy or --shape C,H,W');
  if (!(args.batch >= 1) || !(args.iters >= 1) || !(args.warmup >= 0)) {
    throw new Error('--batch and --iters must be >= 1, --warmup >= 0');
  }
  args.name = args.name || path.basename(args.model, '.onnx');
  return args;
}

// .npy, float32 little-endian, C order (what numpy.save writes for our arrays).
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not an .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || descr[1] !== '<f4' || !fortran || fortran[1] !== 'False' || !shape) {
    throw new Error(`${file}: expected a C-order float32 array, header ${header.trim()}`);
  }
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length - start < count * 4) throw new Error(`${file}: truncated data`);
  // Copy: the data offset need not be 4-byte aligned for a Float32Array view.
  const data = new Float32Array(count);
  Buffer.from(data.buffer).set(buf.subarray(start, start + count * 4));
  return {dims, data};
}

function writeNpy(file, dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

// mulberry32: a small seeded generator, for runs without an input file.
function seededUniform(count, seed) {
  let a = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; ++i) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

function makeInput(args) {
  if (args.input) {
    const {dims, data} = readNpy(args.input);
    if (dims[0] < args.batch) {
      throw new Error(`${args.input}: holds ${dims[0]} images, batch ${args.batch} asked`);
    }
    const per = data.length / dims[0];
    return {dims: [args.batch, ...dims.slice(1)], data: data.slice(0, per * args.batch)};
  }
  const chw = args.shape.split(',').map(Number);
  const dims = [args.batch, ...chw];
  return {dims, data: seededUniform(dims.reduce((a, b) => a * b, 1), args.seed)};
}

async function main() {
  const args = parseArgs(process.argv);
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const input = makeInput(args);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims)};
  const outputName = session.outputNames[0];

  let result;
  for (let i = 0; i < args.warmup; ++i) result = await session.run(feeds);
  let runs = 0;
  const start = process.hrtime.bigint();
  let seconds = 0;
  while (runs < args.iters && (runs === 0 || seconds < args.maxSeconds)) {
    result = await session.run(feeds);
    ++runs;
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const out = result[outputName];
  if (args.output) writeNpy(args.output, out.dims, out.data);
  const imagesPerS = (args.batch * runs) / seconds;
  // One machine-readable line; run_inference_bench.sh greps for it.
  console.log(`RESULT engine=ort model=${args.name} batch=${args.batch} runs=${runs} ` +
              `seconds=${seconds.toFixed(4)} images_per_s=${imagesPerS.toFixed(3)} ` +
              `ms_per_batch=${((seconds * 1000) / runs).toFixed(3)}`);
}

main().catch((err) => {
  console.error(`run_ort.js: ${err.message}`);
  process.exit(1);
});
