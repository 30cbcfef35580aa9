/**
 * What git says changed in a project since a ref: the input of `strata affected`.
 * Only plumbing-stable git commands are used, with `-z` where paths are listed.
 */
import { relative, resolve } from 'node:path';
import { StrataError } from '../util/errors.js';
import { isInside, toPosix } from '../util/paths.js';
import { run } from '../util/process.js';

export interface GitChanges {
  /** The ref as the user named it. */
  ref: string;
  /** The commit compared against: the merge base of `ref` and HEAD. */
  base: string;
  repoRoot: string;
  /** Absolute paths inside the project that differ between `base` and the working tree (committed, staged, unstaged or untracked). */
  paths: string[];
}

async function git(repoRoot: string, args: string[], allowFailure = false) {
  return run('git', ['-c', 'core.quotepath=off', ...args], { cwd: repoRoot, allowFailure, env: { GIT_OPTIONAL_LOCKS: '0' } });
}

function nulList(text: string): string[] {
  return text.split('\0').filter((item) => item !== '');
}

export async function repositoryRoot(dir: string): Promise<string> {
  const top = await run('git', ['rev-parse', '--show-toplevel'], { cwd: dir, allowFailure: true });
  if (top.exitCode !== 0) {
    throw new StrataError(`${dir} is not inside a git repository`, {
      hint: 'strata affected compares against git history; run it in a clone of the project',
    });
  }
  return top.stdout.trim();
}

/**
 * Files changed in the project since the point where the current branch left
 * `ref` (like `git diff REF...`, but including work not committed yet): in CI
 * that answers "what does this branch change?" even when `ref` moved on.
 */
export async function changesSince(projectRoot: string, ref: string): Promise<GitChanges> {
  const repoRoot = await repositoryRoot(projectRoot);
  const commit = await git(repoRoot, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], true);
  if (commit.exitCode !== 0) {
    throw new StrataError(`git does not know the ref '${ref}'`, {
      kind: 'usage',
      hint: 'fetch it first (git fetch origin main); shallow CI clones need the full history (fetch-depth: 0)',
    });
  }
  const mergeBase = await git(repoRoot, ['merge-base', commit.stdout.trim(), 'HEAD'], true);
  if (mergeBase.exitCode !== 0) {
    throw new StrataError(`'${ref}' and HEAD have no common history`, {
      kind: 'usage',
      hint: 'a shallow clone hides it: fetch more history (git fetch --unshallow) or use fetch-depth: 0',
    });
  }
  const base = mergeBase.stdout.trim();
  const diff = await git(repoRoot, ['diff', '--name-only', '--no-renames', '-z', base, '--']);
  const others = await git(repoRoot, ['ls-files', '--others', '--exclude-standard', '-z']);
  const inProject = (rel: string): string | null => {
    const abs = resolve(repoRoot, rel);
    return isInside(projectRoot, abs) ? abs : null;
  };
  const untracked = nulList(others.stdout).map(inProject).filter((p): p is string => p !== null);
  const tracked = nulList(diff.stdout).map(inProject).filter((p): p is string => p !== null);
  return { ref, base, repoRoot, paths: [...new Set([...tracked, ...untracked])].sort() };
}

/** The text of a file at a commit, or null when it did not exist there. */
export async function fileAtCommit(repoRoot: string, commit: string, absPath: string): Promise<string | null> {
  const shown = await git(repoRoot, ['show', `${commit}:${toPosix(relative(repoRoot, absPath))}`], true);
  return shown.exitCode === 0 ? shown.stdout : null;
}

/** Project-relative, '/'-separated form of a path for reports. */
export function projectRelative(projectRoot: string, absPath: string): string {
  return toPosix(relative(projectRoot, absPath)) || '.';
}
