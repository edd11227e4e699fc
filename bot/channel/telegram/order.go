package telegram

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Sequencer runs the updates of one chat one at a time, in update_id
// order. Telegram may deliver two updates of a chat over parallel
// connections; an update waits a short window before it runs so that an
// earlier one arriving at the same moment goes first. Chats are
// independent. Idle chats hold no memory.
type Sequencer struct {
	window time.Duration
	mu     sync.Mutex
	chats  map[int64]*chatQueue
}

type chatQueue struct {
	pending []job // sorted by id
}

type job struct {
	id   int64
	run  func()
	done chan struct{}
}

// NewSequencer returns a Sequencer with the given reorder window
// (default 100ms when <= 0).
func NewSequencer(window time.Duration) *Sequencer {
	if window <= 0 {
		window = 100 * time.Millisecond
	}
	return &Sequencer{window: window, chats: map[int64]*chatQueue{}}
}

// Do runs fn for update id of chat after every earlier queued update of
// the chat, and returns fn's error. If ctx ends first Do returns ctx's
// error; fn still runs in its turn (give it a context of its own).
func (s *Sequencer) Do(ctx context.Context, chat, id int64, fn func() error) error {
	var err error
	j := job{id: id, done: make(chan struct{}), run: func() {
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("telegram update panicked: %v", v)
			}
		}()
		err = fn()
	}}
	s.mu.Lock()
	q, running := s.chats[chat]
	if !running {
		q = &chatQueue{}
		s.chats[chat] = q
	}
	i, _ := slices.BinarySearchFunc(q.pending, id, func(a job, id int64) int {
		switch {
		case a.id < id:
			return -1
		case a.id > id:
			return 1
		}
		return 0
	})
	q.pending = slices.Insert(q.pending, i, j)
	s.mu.Unlock()
	if !running {
		go s.drain(chat, q)
	}
	select {
	case <-j.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Sequencer) drain(chat int64, q *chatQueue) {
	time.Sleep(s.window)
	for {
		s.mu.Lock()
		if len(q.pending) == 0 {
			delete(s.chats, chat)
			s.mu.Unlock()
			return
		}
		j := q.pending[0]
		q.pending = q.pending[1:]
		s.mu.Unlock()
		j.run()
		close(j.done)
	}
}
