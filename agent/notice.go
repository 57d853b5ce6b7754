package agent

import "context"

// Notice is something the person must do for a request to go on, told
// to the page while the request is still in flight (the request itself
// keeps waiting): the page is where the person is looking.
type Notice string

// NoticePromptNotShown: the prompt could not be put on the screen (no
// dialog, no browser could be started); the agent printed where it is
// (its terminal and log), and the person has to open it themselves.
const NoticePromptNotShown Notice = "PROMPT_NOT_SHOWN"

type noticeKey struct{}

// WithNotices returns ctx under which Notify reaches tell: the transport
// sets it for each request, to send the page a notice about that request.
func WithNotices(ctx context.Context, tell func(Notice)) context.Context {
	return context.WithValue(ctx, noticeKey{}, tell)
}

// Notify tells the page behind ctx's request n; without one (the command
// line, a test) nobody is told.
func Notify(ctx context.Context, n Notice) {
	if tell, ok := ctx.Value(noticeKey{}).(func(Notice)); ok {
		tell(n)
	}
}

type progressKey struct{}

// WithProgress returns ctx under which Progress reaches tell: the
// transport sends the page a progress notice for a batch.
func WithProgress(ctx context.Context, tell func(done, total int)) context.Context {
	return context.WithValue(ctx, progressKey{}, tell)
}

// Progress tells the page behind ctx that done of total documents are
// signed; without a listener nobody is told.
func Progress(ctx context.Context, done, total int) {
	if tell, ok := ctx.Value(progressKey{}).(func(int, int)); ok {
		tell(done, total)
	}
}
