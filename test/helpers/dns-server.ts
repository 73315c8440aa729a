import dns2 from 'dns2';

/** A real DNS server on loopback (UDP) that answers TXT queries from a map the test controls. */
export interface TestDnsServer {
  /** "127.0.0.1:port", as WARDEN_DNS_SERVERS takes it. */
  address: string;
  txt: Map<string, string[]>;
  queries: string[];
  close(): Promise<void>;
}

export async function startDnsServer(): Promise<TestDnsServer> {
  const txt = new Map<string, string[]>();
  const queries: string[] = [];
  const server = dns2.createServer({
    udp: true,
    handle: (request: any, send: (response: any) => void) => {
      const response = dns2.Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = String(question.name).toLowerCase();
      queries.push(name);
      if (question.type === dns2.Packet.TYPE.TXT) {
        for (const data of txt.get(name) ?? []) {
          (response.answers as unknown[]).push({ name: question.name, type: dns2.Packet.TYPE.TXT, class: dns2.Packet.CLASS.IN, ttl: 1, data });
        }
      }
      send(response);
    },
  });
  const listening = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const port = (listening as any).udp.port as number;
  return {
    address: `127.0.0.1:${port}`,
    txt,
    queries,
    close: () => server.close(),
  };
}
