package console

import "net/http"

// sendSubmit starts the nudge (or, with action=preview, only shows the
// preview: the form without JavaScript).
func (c *Console) sendSubmit(w http.ResponseWriter, r *http.Request, s *Session) {
	f, req, errs := c.decodeSend(r, s)
	if errs.Any() {
		c.renderSend(w, r, http.StatusUnprocessableEntity, c.sendData(r, f, errs, nil))
		return
	}
	if r.FormValue("action") == "preview" {
		pv, err := c.d.Service.Preview(r.Context(), req)
		if err != nil {
			if !serviceErrors(err, errs) {
				c.serverError(w, r, err)
				return
			}
			c.renderSend(w, r, http.StatusUnprocessableEntity, c.sendData(r, f, errs, nil))
			return
		}
		c.renderSend(w, r, http.StatusOK, c.sendData(r, f, nil, &pv))
		return
	}
	res, err := c.d.Service.Trigger(r.Context(), req)
	if err != nil {
		if !serviceErrors(err, errs) {
			c.serverError(w, r, err)
			return
		}
		c.renderSend(w, r, http.StatusUnprocessableEntity, c.sendData(r, f, errs, nil))
		return
	}
	flash := "sent"
	if res.Existing {
		flash = "existing"
	}
	c.redirect(w, r, "/console/nudges/"+res.ID+"?flash="+flash)
}
