package simulate

// Labels are the words of a transcript. The markers (===, ▶, →, …, │, ⏸,
// ☎, ·) are the same in every language, so a screen can lay a transcript
// out without reading its words. English is the command line's; the
// console shows Dutch first.
type Labels struct {
	Days                                 [7]string // Sunday first, as time.Weekday
	Header, Hours, Unlimited, Starts     string
	Passes, Waiting, Ended, Next, Call   string
	Send, Timeout, Reminder, Expire      string
	State, Unknown, Now, Nothing, Passed string
	Help                                 string
	NoNudge                              string
	Dropped                              string // message kind, state, reason
}

// English is the command line's transcript.
var English = Labels{
	Days:   [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
	Header: "=== %s v%d, language %s, %s (Europe/Amsterdam)", Hours: "    sending hours %s, at most %s proactive messages per 7 days",
	Unlimited: "unlimited", Starts: "▶ a case worker starts %s",
	Passes: "… time passes until %s", Waiting: "conversation waiting at step %s", Ended: "conversation ended (outcome %s)",
	Next: "; next: ", Call: "☎ call task for the werkplaats: %s (due %s)",
	Send: "held message goes out", Timeout: "timeout", Reminder: "reminder", Expire: "expire",
	State: "(state)", Unknown: "(unknown command %s)", Now: "(it is %s; write /time +2h, /time next or /time 2026-11-24 09:00)",
	Nothing: "(nothing waits: only an answer moves this conversation on)", Passed: "(%s has passed: the clock only goes forward)",
	Help: Help, NoNudge: "(cannot read the nudge: %v)", Dropped: "not sent: %s, %s: %s",
}

// Dutch is the console's transcript.
var Dutch = Labels{
	Days:   [7]string{"zo", "ma", "di", "wo", "do", "vr", "za"},
	Header: "=== %s versie %d, taal %s, %s (Nederlandse tijd)", Hours: "    verzenduren %s, hoogstens %s proactieve berichten per 7 dagen",
	Unlimited: "onbeperkt", Starts: "▶ een consulent start %s",
	Passes: "… de tijd gaat door tot %s", Waiting: "gesprek wacht bij stap %s", Ended: "gesprek is klaar (uitkomst %s)",
	Next: "; hierna: ", Call: "☎ terugbeltaak voor de werkplaats: %s (uiterlijk %s)",
	Send: "wachtend bericht gaat uit", Timeout: "wachttijd om", Reminder: "herinnering", Expire: "verloopt",
	State: "(stand van zaken)", Unknown: "(onbekende opdracht %s)", Now: "(het is %s; schrijf /time +2h, /time next of /time 2026-11-24 09:00)",
	Nothing: "(er wacht niets: alleen een antwoord brengt dit gesprek verder)", Passed: "(%s is al voorbij: de klok gaat alleen vooruit)",
	Help: `Typ wat de ontvanger stuurt (STOP, HELP en START werken zoals op een telefoon). Opdrachten:
  /time +2h            laat tijd verstrijken (90m, 2d, 1w); wat dan aan de beurt is, gebeurt op zijn moment
  /time next           naar de volgende wachttijd of het volgende wachtende bericht
  /time 2026-11-24 09:00   naar een moment (of alleen 09:00: de eerstvolgende keer)
  /state               waar het gesprek is en wat er wacht
  /restart             opnieuw beginnen: flowbestanden opnieuw gelezen
  /help                deze tekst`,
	NoNudge: "(het gesprek is niet te lezen: %v)", Dropped: "niet verstuurd: %s, %s: %s",
}
