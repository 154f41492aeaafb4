/** Overview: events over time by kind, the most accessed files, the top talkers and the latest alerts at a glance. */
import { formatBytes, formatCount, formatPod } from '../domain/format.ts';
import { AlertsTable } from './AlertsView.tsx';
import { actions } from '../store/state.ts';
import { BarList, EventsOverTimeChart } from './charts.tsx';
import { Empty, Loaded, ViewHeader } from './common.tsx';
import { useDispatch, useSelector } from './store-context.ts';

export function OverviewView() {
  const overview = useSelector((s) => s.overview);
  const now = useSelector((s) => s.now);
  const dispatch = useDispatch();
  return (
    <section class="view" data-view="overview">
      <ViewHeader title="Overview" subtitle="What happened in the window, by kind, file and talker" resource={overview} />
      <Loaded resource={overview}>
        {(data) => (
          <div class="overview-grid">
            <div class="panel span-2">
              <h2>Events over time</h2>
              <EventsOverTimeChart data={data.overTime} now={now} onPick={(from, to) => dispatch(actions.setFilters({ window: 'custom', from, to }))} />
            </div>
            <div class="panel" data-panel="top-files">
              <h2>Top files</h2>
              <BarList
                rows={data.topFiles}
                label={(r) => r.path}
                sublabel={(r) => `${r.pods} pod${r.pods === 1 ? '' : 's'}`}
                value={(r) => r.count}
                valueText={(r) => formatCount(r.count)}
                empty="No file events in this window."
              />
            </div>
            <div class="panel" data-panel="top-talkers">
              <h2>Top talkers</h2>
              <BarList
                rows={data.topTalkers}
                label={(r) => formatPod(r.namespace, r.pod)}
                sublabel={(r) => r.binary}
                value={(r) => r.bytes ?? r.connections}
                valueText={(r) => `${formatCount(r.connections)} conn${r.bytes === null ? '' : ` · ${formatBytes(r.bytes)}`}`}
                empty="No outbound connections in this window."
              />
            </div>
            <div class="panel span-2">
              <h2>
                Latest alerts{' '}
                <button type="button" class="link" onClick={() => dispatch(actions.navigate('alerts'))}>
                  all alerts →
                </button>
              </h2>
              {data.alerts.length === 0 ? (
                <Empty>No alerts in this window.</Empty>
              ) : (
                <AlertsTable alerts={data.alerts} compact />
              )}
            </div>
          </div>
        )}
      </Loaded>
    </section>
  );
}
