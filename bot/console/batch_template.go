package console

import (
	"bytes"
	"encoding/csv"
	"net/http"

	"github.com/xuri/excelize/v2"

	"github.com/seintje/seintje/bot/flow"
	"github.com/seintje/seintje/bot/outreach"
)

// batchTemplate downloads an empty spreadsheet for a flow (CSV for Dutch
// Excel, or XLSX): the columns Seintje reads and one example row.
func (c *Console) batchTemplate(w http.ResponseWriter, r *http.Request, s *Session) {
	f, ok := c.d.Service.Flows.Current(r.URL.Query().Get("flow"))
	if !ok {
		c.notFound(w, r)
		return
	}
	header := []string{"ref", "telefoon", "naam", "taal", "consulent"}
	example := []string{"C-1234", "06 12345678", "Sanne de Vries", "nl", s.Name}
	for _, v := range f.Variables {
		if v.Name == outreach.TelegramLinkVar {
			continue
		}
		header = append(header, v.Name)
		switch v.Type {
		case flow.TypeDate:
			example = append(example, "01-12-2026")
		case flow.TypeDatetime:
			example = append(example, "01-12-2026 10:00")
		default:
			example = append(example, "")
		}
	}
	name := "seintje-" + f.ID
	if r.URL.Query().Get("format") == "xlsx" {
		x := excelize.NewFile()
		defer x.Close()
		sheet := x.GetSheetName(0)
		for i, row := range [][]string{header, example} {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			vals := make([]any, len(row))
			for k, v := range row {
				vals[k] = v
			}
			if err := x.SetSheetRow(sheet, cell, &vals); err != nil {
				c.serverError(w, r, err)
				return
			}
		}
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			c.serverError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		_, _ = buf.WriteTo(w)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	_, _ = w.Write([]byte("\xef\xbb\xbf"))
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	_ = cw.WriteAll([][]string{header, example})
}
