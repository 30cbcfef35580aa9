/** Every strata command, in the order --help lists them (pipeline order). */
import config from './config.js';
import schema from './schema.js';
import validate from './validate.js';
import render from './render.js';
import diff from './diff.js';
import graph from './graph.js';
import deps from './deps.js';
import rdeps from './rdeps.js';
import build from './build.js';
import compose from './compose.js';
import verify from './verify.js';
import repro from './repro.js';
import boot from './boot.js';
import explain from './explain.js';
import why from './why.js';
import affected from './affected.js';
import cache from './cache.js';
import worker from './worker.js';
import farm from './farm.js';
import doctor from './doctor.js';

export const commands = [config, schema, validate, render, diff, graph, deps, rdeps, build, compose, verify, repro, boot, explain, why, affected, cache, worker, farm, doctor];
