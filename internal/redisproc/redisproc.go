// Package redisproc starts throw-away redis-server processes on loopback
// for fault tests and the fault bench: a server that can be stalled
// (SIGSTOP), killed and restarted on the same port and data, a replica,
// and Sentinels. It never touches a Redis it did not start.
package redisproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Available reports whether redis-server is on PATH.
func Available() error {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return fmt.Errorf("redis-server is not on PATH (apt-get install redis-server): %w", err)
	}
	return nil
}

// Server is one redis-server process (a data node or a Sentinel).
type Server struct {
	Port     int
	Dir      string
	sentinel bool
	args     []string
	cmd      *exec.Cmd
	logf     *os.File
	name     string
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// FreePort returns a free loopback port.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start starts a durable redis-server (append-only file, fsync on every
// write, so a SIGKILL loses nothing it acknowledged) in dir/name on a free
// port. extra are more redis-server arguments (e.g. "--replicaof", ...).
func Start(dir, name string, extra ...string) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, err
	}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", d, "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no"}, extra...)
	s := &Server{Port: port, Dir: d, args: args, name: name}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// StartSentinel starts a Sentinel watching master (name "mymaster" style)
// at masterAddr, with a quorum and a short down-after.
func StartSentinel(dir, name, master, masterAddr string, quorum int, downAfter time.Duration) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, err
	}
	host, mport, _ := strings.Cut(masterAddr, ":")
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nprotected-mode no\nsentinel monitor %s %s %s %d\n"+
		"sentinel down-after-milliseconds %s %d\nsentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n",
		port, d, master, host, mport, quorum, master, downAfter.Milliseconds(), master, master)
	cf := filepath.Join(d, "sentinel.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	s := &Server{Port: port, Dir: d, args: []string{cf, "--sentinel"}, sentinel: true, name: name}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, "redis.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	s.logf = logf
	s.cmd = exec.Command("redis-server", s.args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C of the caller does not hit it first.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start redis-server: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: time.Second, MaxRetries: -1})
	defer c.Close()
	for {
		err := c.Ping(ctx).Err() // LOADING while it reads its data back
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			out, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			s.Kill()
			return fmt.Errorf("redis-server on %s did not answer: %v\n%s", s.Addr(), err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pause stalls the server (SIGSTOP): connections stay open, nothing answers.
func (s *Server) Pause() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Kill ends the server with SIGKILL (no shutdown, no final save).
func (s *Server) Kill() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	err := s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	if s.logf != nil {
		s.logf.Close()
	}
	s.cmd = nil
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// Restart starts the server again on the same port with the same data.
func (s *Server) Restart() error { return s.start() }

// Running reports whether the process was started and not killed.
func (s *Server) Running() bool { return s.cmd != nil }

// Close kills the server if it runs.
func (s *Server) Close() { _ = s.Kill() }

// Sentinels is a master, a replica and three Sentinels on loopback.
type Sentinels struct {
	Master, Replica *Server
	Sentinels       []*Server
	Name            string
}

// StartSentinels starts a master, a replica of it, and three Sentinels
// (quorum 2) that fail over after downAfter without an answer.
func StartSentinels(dir string, downAfter time.Duration) (*Sentinels, error) {
	st := &Sentinels{Name: "seintje"}
	var err error
	if st.Master, err = Start(dir, "master", "--repl-diskless-sync-delay", "0"); err != nil {
		return nil, err
	}
	if st.Replica, err = Start(dir, "replica", "--replicaof", "127.0.0.1", strconv.Itoa(st.Master.Port)); err != nil {
		st.Close()
		return nil, err
	}
	for i := range 3 {
		s, err := StartSentinel(dir, fmt.Sprintf("sentinel-%d", i), st.Name, st.Master.Addr(), 2, downAfter)
		if err != nil {
			st.Close()
			return nil, err
		}
		st.Sentinels = append(st.Sentinels, s)
	}
	// Wait until the replica is in sync and every Sentinel knows the
	// replica and the other Sentinels.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rc := redis.NewClient(&redis.Options{Addr: st.Replica.Addr()})
	for {
		info, _ := rc.Info(ctx, "replication").Result()
		if strings.Contains(info, "master_link_status:up") {
			break
		}
		if ctx.Err() != nil {
			rc.Close()
			st.Close()
			return nil, fmt.Errorf("replica %s does not get in sync", st.Replica.Addr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	rc.Close()
	for _, s := range st.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr()})
		for {
			reps, _ := c.Replicas(ctx, st.Name).Result()
			sens, _ := c.Sentinels(ctx, st.Name).Result()
			if len(reps) >= 1 && len(sens) >= 2 {
				break
			}
			if ctx.Err() != nil {
				c.Close()
				st.Close()
				return nil, fmt.Errorf("sentinel %s does not see the replica and its peers", s.Addr())
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.Close()
	}
	return st, nil
}

// Addrs are the Sentinels' addresses.
func (st *Sentinels) Addrs() []string {
	var out []string
	for _, s := range st.Sentinels {
		out = append(out, s.Addr())
	}
	return out
}

// CurrentMaster asks a Sentinel which address is the master now.
func (st *Sentinels) CurrentMaster(ctx context.Context) (string, error) {
	for _, s := range st.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr()})
		a, err := c.GetMasterAddrByName(ctx, st.Name).Result()
		c.Close()
		if err == nil && len(a) == 2 {
			return a[0] + ":" + a[1], nil
		}
	}
	return "", errors.New("no sentinel answered")
}

// Close stops every process.
func (st *Sentinels) Close() {
	for _, s := range st.Sentinels {
		s.Close()
	}
	if st.Replica != nil {
		st.Replica.Close()
	}
	if st.Master != nil {
		st.Master.Close()
	}
}
