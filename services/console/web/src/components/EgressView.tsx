/**
 * Egress: per pod, down to the command — the names it resolved and contacted (DNS queries, TLS server names, HTTP
 * hosts, read from the packets by the agent's egress parser) with counts and the bytes sent and received by the
 * connections that asked for them (the agent's flow records, joined by socket), then its outbound connections by
 * destination, port and bytes.
 */
import type { PodCommand } from '@stinger/console-api';
import { sumOf } from '../domain/grouping.ts';
import { baseName, countOf, formatBytes, formatCommand, formatCount, formatEndpoint } from '../domain/format.ts';
import { Empty, Loaded, ViewHeader } from './common.tsx';
import { PodGroups, SeenCells } from './PodGroups.tsx';
import { useSelector } from './store-context.ts';

const NAME_COLUMNS = ['name', 'as', 'binary', 'command', 'ancestry', 'count', 'sent', 'received', 'to', 'first seen', 'last seen'];
const CONNECTION_COLUMNS = ['destination', 'proto', 'binary', 'command', 'ancestry', 'conns', 'bytes', 'first seen', 'last seen'];

/** How the name was met: resolved (DNS), or contacted (TLS server name, HTTP Host). */
const NAME_KINDS: Readonly<Record<string, string>> = { dns: 'resolved', tls: 'TLS', http: 'HTTP' };

/** binary, command line and ancestry: the columns both tables share. */
function CommandCells(props: { row: PodCommand }) {
  const { row } = props;
  return (
    <>
      <td class="mono">{row.binary}</td>
      <td class="mono ellipsis" title={formatCommand(row.binary, row.args)}>
        {formatCommand(row.binary, row.args)}
      </td>
      <td class="mono ancestry" title={row.ancestry.join(' ← ')}>
        {row.ancestry.length === 0 ? '—' : row.ancestry.map(baseName).join(' ← ')}
      </td>
    </>
  );
}

export function EgressView() {
  const egress = useSelector((s) => s.egress);
  return (
    <section class="view" data-view="egress">
      <ViewHeader title="Egress" subtitle="Names resolved and contacted, and outbound connections, per pod, down to the command" resource={egress} />
      <Loaded resource={egress}>
        {({ names, connections }) => (
          <>
            <h2 class="section-title">Names</h2>
            {names.length === 0 ? (
              <Empty>No DNS queries, TLS server names or HTTP hosts in this window.</Empty>
            ) : (
              <div data-section="names">
                <PodGroups
                  rows={names}
                  columns={NAME_COLUMNS}
                  summary={(group) => {
                    const sent = sumOf(group, (r) => r.bytesSent);
                    const received = sumOf(group, (r) => r.bytesReceived);
                    return [
                      countOf(new Set(group.map((r) => r.name)).size, 'name'),
                      countOf(sumOf(group, (r) => r.count) ?? 0, 'request'),
                      ...(sent === null ? [] : [`${formatBytes(sent)} sent`]),
                      ...(received === null ? [] : [`${formatBytes(received)} received`]),
                    ].join(' · ');
                  }}
                  cells={(row) => (
                    <>
                      <td class="mono nowrap" data-name={row.name} title={row.incomplete > 0 ? `${row.incomplete} not read completely` : undefined}>
                        {row.name}
                        {row.incomplete > 0 ? ' *' : ''}
                      </td>
                      <td>{NAME_KINDS[row.application] ?? row.application}</td>
                      <CommandCells row={row} />
                      <td class="num">{formatCount(row.count)}</td>
                      <td class="num" data-cell="sent" title={`${formatBytes(row.bytes)} in the requests read`}>
                        {formatBytes(row.bytesSent)}
                      </td>
                      <td class="num" data-cell="received">
                        {formatBytes(row.bytesReceived)}
                      </td>
                      <td class="mono ellipsis">{row.destinations.join(', ')}</td>
                      <SeenCells firstSeen={row.firstSeen} lastSeen={row.lastSeen} />
                    </>
                  )}
                />
              </div>
            )}
            <h2 class="section-title">Connections</h2>
            {connections.length === 0 ? (
              <Empty>No outbound connections in this window.</Empty>
            ) : (
              <div data-section="connections">
                <PodGroups
                  rows={connections}
                  columns={CONNECTION_COLUMNS}
                  summary={(group) => {
                    const bytes = sumOf(group, (r) => r.bytes);
                    const destinations = new Set(group.map((r) => formatEndpoint(r.daddr, r.dport))).size;
                    return [countOf(sumOf(group, (r) => r.connections) ?? 0, 'connection'), ...(bytes === null ? [] : [formatBytes(bytes)]), countOf(destinations, 'destination')].join(' · ');
                  }}
                  cells={(row) => (
                    <>
                      <td class="mono nowrap">{formatEndpoint(row.daddr, row.dport)}</td>
                      <td>{row.protocol}</td>
                      <CommandCells row={row} />
                      <td class="num">{formatCount(row.connections)}</td>
                      <td class="num" data-cell="bytes">
                        {formatBytes(row.bytes)}
                      </td>
                      <SeenCells firstSeen={row.firstSeen} lastSeen={row.lastSeen} />
                    </>
                  )}
                />
              </div>
            )}
          </>
        )}
      </Loaded>
    </section>
  );
}
