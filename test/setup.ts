// Every test file starts with Tagway's drivers and project validators registered, as start-up and the CLI do
// (src/server/built-ins.ts): a test that parses a project needs them, and registration is not an import side effect.
import { registerBuiltIns } from '../src/server/built-ins.js';

registerBuiltIns();
