/** Prints docs/config.md: `node dist/src/config/docs-cli.js > docs/config.md` (same text as `strata schema --markdown`). */
import { configMarkdown } from './docs.js';

process.stdout.write(configMarkdown());
