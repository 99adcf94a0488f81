package localapps

import (
	"context"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// dialSocketIn connects to the Unix socket name in the folder dir, which
// the sandbox's user owns and may change at will: it could put a link in
// the socket's place, which connecting by path would follow, as the
// portal, to any socket of the machine (a container engine's, which would
// answer the owner's requests as root). So the socket is opened without
// following a link (O_PATH|O_NOFOLLOW), checked to be a socket, and
// connected to through that open file, which names that very socket
// whatever the folder holds by then.
func dialSocketIn(ctx context.Context, dir *os.File, name string) (net.Conn, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the sandbox's socket: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("the sandbox's socket: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return nil, fmt.Errorf("the sandbox's %s is not a socket (mode %o): refused", name, st.Mode)
	}
	return (&net.Dialer{}).DialContext(ctx, "unix", fmt.Sprintf("/proc/self/fd/%d", fd))
}
