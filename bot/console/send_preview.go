package console

import "net/http"

// sendPreview renders the first message as the person will see it
// (htmx, as the form changes; also the "preview" button without
// JavaScript). It uses the service's Preview: the same checks and the same
// engine as a real send. Nothing is stored or sent.
func (c *Console) sendPreview(w http.ResponseWriter, r *http.Request, s *Session) {
	f, req, errs := c.decodeSend(r, s)
	if !errs.Any() {
		pv, err := c.d.Service.Preview(r.Context(), req)
		if err == nil {
			c.fragment(w, r, "send", "preview", c.page(r, "send.title", c.sendData(r, f, nil, &pv)))
			return
		}
		if !serviceErrors(err, errs) {
			c.serverError(w, r, err)
			return
		}
	}
	c.fragment(w, r, "send", "preview", c.page(r, "send.title", c.sendData(r, f, errs, nil)))
}
