/* A free loopback port for the unit tests. Inline in a header, not in a
 * *_support.c, because bench/CMakeLists.txt builds pg_support.c on its own,
 * without the rest of the test support library. */
#ifndef PORT_SUPPORT_H
#define PORT_SUPPORT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* A loopback port that nothing listens on (bound and released by us just now). */
static inline int sv_test_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd); /* bound but never listening: connecting to it is refused */
	return port;
}

#endif
