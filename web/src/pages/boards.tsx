import { lazy, Suspense, useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import type { BoardInput, BoardView, TagInfo } from '../../../client/src/index.js';
import { useAlarms, useTags, useTagway } from '../../../client/src/react.js';
import { useAuth } from '../auth.js';
import { QualityBadge } from '../components/quality.js';
import { WriteDialog } from '../components/write-dialog.js';
import { formatValue } from '../format.js';
import { useI18n } from '../i18n.js';

const TrendChart = lazy(() => import('../components/trend-chart.js').then((m) => ({ default: m.TrendChart })));
const KINDS = ['value', 'gauge', 'trend', 'setpoint', 'alarms', 'indicator'] as const;
type Kind = (typeof KINDS)[number];

export function BoardsPage() {
  const { t } = useI18n();
  const { client } = useTagway();
  const { id } = useParams();
  const [boards, setBoards] = useState<BoardView[]>([]);
  const [tags, setTags] = useState<TagInfo[]>([]);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    void client.boards().then(
      (r) => setBoards(r.items),
      () => undefined,
    );
  }, [client, tick]);
  useEffect(() => {
    void client.allTags().then(setTags, () => undefined);
  }, [client]);
  const board = boards.find((b) => b.id === id);
  const [editing, setEditing] = useState(false);
  useEffect(() => setEditing(false), [id]);
  return (
    <section>
      <h1>{board ? board.name : t.myBoards}</h1>
      <nav aria-label={t.myBoards} className="toolbar wrap">
        {boards.map((b) => (
          <Link key={b.id} to={`/app/boards/${b.id}`} className={`chip${b.id === id ? ' current' : ''}`}>
            {b.name}
            {b.mine ? '' : ` (${b.owner})`}
          </Link>
        ))}
        <Link to="/app/boards" className="chip">
          + {t.newBoard}
        </Link>
      </nav>
      {board && !editing ? (
        <Board board={board} tags={tags} onDeleted={() => setTick((x) => x + 1)} onEdit={() => setEditing(true)} />
      ) : (
        <BoardEditor
          key={board?.id ?? 'new'}
          board={board}
          tags={tags}
          onSaved={(b) => {
            setTick((x) => x + 1);
            setEditing(false);
            return b;
          }}
        />
      )}
    </section>
  );
}

/** Composes a new board, or changes one of the caller's own (`board`). */
function BoardEditor(props: { board?: BoardView | undefined; tags: TagInfo[]; onSaved: (b: BoardView) => BoardView }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const navigate = useNavigate();
  const [widgets, setWidgets] = useState<BoardInput['widgets']>(
    () =>
      props.board?.widgets.map((w) => ({
        id: w.id,
        kind: w.kind as Kind,
        tags: w.tags,
        ...(w.title ? { title: w.title } : {}),
        ...(w.options ? { options: w.options } : {}),
      })) ?? [],
  );
  const [kind, setKind] = useState<Kind>('value');
  const [tag, setTag] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const save = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    try {
      const input: BoardInput = {
        name: String(f.get('name')),
        widgets,
        sharedWith: String(f.get('shared') ?? '')
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean),
      };
      const b = props.board ? await client.updateBoard(props.board.id, input) : await client.createBoard(input);
      props.onSaved(b);
      navigate(`/app/boards/${b.id}`);
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <form className="card editor" onSubmit={(e) => void save(e)} aria-label={props.board ? props.board.name : t.newBoard}>
      <h2>{props.board ? props.board.name : t.newBoard}</h2>
      <label>
        {t.name}
        <input name="name" required maxLength={100} defaultValue={props.board?.name} />
      </label>
      <fieldset>
        <legend>{t.addWidget}</legend>
        <label>
          {t.widget}
          <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            {KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          {t.tags}
          <select value={tag} onChange={(e) => setTag(e.target.value)}>
            <option value="">…</option>
            {props.tags.map((x) => (
              <option key={x.name}>{x.name}</option>
            ))}
          </select>
        </label>
        <button
          type="button"
          disabled={kind !== 'alarms' && !tag}
          onClick={() => {
            setWidgets((w) => [...w, { kind, tags: tag ? [tag] : [] }]);
            setTag('');
          }}
        >
          {t.addWidget}
        </button>
      </fieldset>
      <ul>
        {widgets.map((w, i) => (
          <li key={i}>
            {w.kind}: {w.tags.join(', ') || t.alarms}{' '}
            <button
              type="button"
              aria-label={`${t.delete} ${w.kind} ${i + 1}`}
              onClick={() => setWidgets((ws) => ws.filter((_, j) => j !== i))}
            >
              ✕
            </button>
          </li>
        ))}
      </ul>
      <label>
        {t.sharedWith}
        <input name="shared" placeholder="viewers" defaultValue={props.board?.sharedWith.join(', ')} />
      </label>
      {problem && <p role="alert">{problem}</p>}
      <button type="submit" className="primary">
        {t.save}
      </button>
    </form>
  );
}

function Board(props: { board: BoardView; tags: TagInfo[]; onDeleted: () => void; onEdit: () => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const { rights } = useAuth();
  const navigate = useNavigate();
  const { board } = props;
  const names = [...new Set(board.widgets.flatMap((w) => w.tags))];
  const values = useTags(names);
  const info = new Map(props.tags.map((x) => [x.name, x]));
  const [writing, setWriting] = useState<TagInfo | undefined>();
  return (
    <>
      {board.hiddenTags > 0 && <p className="muted">{board.hiddenTags} hidden</p>}
      <div className="cards">
        {board.widgets.map((w) => {
          const tag = w.tags[0] ? info.get(w.tags[0]) : undefined;
          const v = w.tags[0] ? values.get(w.tags[0]) : undefined;
          const title = w.title ?? w.tags.join(', ');
          return (
            <article key={w.id} className={`card widget widget-${w.kind}`} aria-label={title || w.kind}>
              <h2>{title || t.alarms}</h2>
              {w.kind === 'value' && (
                <p className="big">
                  {formatValue(v, tag?.type)} <small>{tag?.unit}</small> <QualityBadge value={v} />
                </p>
              )}
              {w.kind === 'indicator' && (
                <p className="big">
                  <span className={`lamp ${v?.value === true ? 'on' : 'off'}`} aria-hidden="true" /> {formatValue(v, tag?.type)}{' '}
                  <QualityBadge value={v} />
                </p>
              )}
              {w.kind === 'gauge' && (
                <>
                  <meter
                    min={Number(tag?.min ?? 0)}
                    max={Number(tag?.max ?? 100)}
                    value={typeof v?.value === 'number' ? v.value : 0}
                    aria-label={title}
                  />
                  <p>
                    {formatValue(v, tag?.type)} <small>{tag?.unit}</small>
                  </p>
                </>
              )}
              {w.kind === 'setpoint' && tag && (
                <p className="big">
                  {formatValue(v, tag.type)} <small>{tag.unit}</small>{' '}
                  {tag.access === 'readwrite' && rights.can('tags:write', tag.name) && (
                    <button type="button" aria-label={`Write ${tag.name}`} onClick={() => setWriting(tag)}>
                      ✎
                    </button>
                  )}
                </p>
              )}
              {w.kind === 'trend' && (
                <Suspense fallback={<p className="muted">…</p>}>
                  <TrendChart tags={w.tags} rangeMs={900_000} height={160} />
                </Suspense>
              )}
              {w.kind === 'alarms' && <AlarmList tags={w.tags} />}
            </article>
          );
        })}
      </div>
      {board.mine && (
        <button type="button" onClick={props.onEdit}>
          {t.edit}
        </button>
      )}
      {board.mine && (
        <button
          type="button"
          onClick={() =>
            void client.deleteBoard(board.id).then(() => {
              props.onDeleted();
              navigate('/app/boards');
            })
          }
        >
          {t.delete}
        </button>
      )}
      {writing && (
        <WriteDialog
          tag={writing}
          current={values.get(writing.name)}
          write={(val) => client.writeTag(writing.name, val)}
          onClose={() => setWriting(undefined)}
        />
      )}
    </>
  );
}

function AlarmList(props: { tags: string[] }) {
  const { items } = useAlarms({});
  const shown = props.tags.length === 0 ? items : items.filter((a) => a.tag !== null && props.tags.includes(a.tag));
  return (
    <ul className="mini-alarms">
      {shown.slice(0, 10).map((a) => (
        <li key={a.id}>
          <strong>{a.priority}</strong> {a.text}
        </li>
      ))}
    </ul>
  );
}
