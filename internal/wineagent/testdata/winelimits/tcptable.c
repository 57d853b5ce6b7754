/* Lists the IPv4 TCP connections GetExtendedTcpTable shows, with owners. */
#include <winsock2.h>
#include <windows.h>
#include <iphlpapi.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
	DWORD size = 0;
	GetExtendedTcpTable(NULL, &size, FALSE, AF_INET, TCP_TABLE_OWNER_PID_CONNECTIONS, 0);
	MIB_TCPTABLE_OWNER_PID *t = malloc(size);
	DWORD r = GetExtendedTcpTable(t, &size, FALSE, AF_INET, TCP_TABLE_OWNER_PID_CONNECTIONS, 0);
	if (r) { printf("GetExtendedTcpTable: %lu\n", r); return 1; }
	printf("%lu rows\n", t->dwNumEntries);
	for (DWORD i = 0; i < t->dwNumEntries; i++) {
		MIB_TCPROW_OWNER_PID *row = &t->table[i];
		printf("%d.%d.%d.%d:%u -> %d.%d.%d.%d:%u state %lu pid %lu\n",
			row->dwLocalAddr & 255, (row->dwLocalAddr >> 8) & 255, (row->dwLocalAddr >> 16) & 255, row->dwLocalAddr >> 24, ntohs((u_short)row->dwLocalPort),
			row->dwRemoteAddr & 255, (row->dwRemoteAddr >> 8) & 255, (row->dwRemoteAddr >> 16) & 255, row->dwRemoteAddr >> 24, ntohs((u_short)row->dwRemotePort),
			row->dwState, row->dwOwningPid);
	}
	return 0;
}
