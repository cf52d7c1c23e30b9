//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// lockDB takes the database's lock file (see dbLockPath): shared for a
// store, exclusive for a restore. It never waits: errDBLocked means the
// other kind is held.
func lockDB(path string, exclusive bool) (*os.File, error) {
	f, err := os.OpenFile(dbLockPath(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errDBLocked
		}
		return nil, err
	}
	return f, nil
}

// sameOwner gives file the owner and group of like, when this process may
// (it runs as root, say, restoring a server's database): the server must
// still be able to write what a restore put in place.
func sameOwner(file string, like os.FileInfo) {
	if st, ok := like.Sys().(*syscall.Stat_t); ok {
		_ = os.Chown(file, int(st.Uid), int(st.Gid)) // refused unless allowed: then the owner is us, as it was
	}
}
