/** A problem found in a project file, located by line and column (1-based) and JSON pointer. */
export interface ProjectProblem {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

export function formatProblem(p: ProjectProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}${p.path ? ` (at ${p.path})` : ''}`;
}

export class ProjectError extends Error {
  constructor(readonly problems: ProjectProblem[]) {
    super(`The project file has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` + problems.map(formatProblem).join('\n'));
    this.name = 'ProjectError';
  }
}
