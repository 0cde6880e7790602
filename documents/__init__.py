"""The delegates' documents (issue 15): the invitation letter for a visa and the agenda pack,
per delegate of a confirmed event, in the delegate's language, as PDF with the centre's
letterhead (`config/letterhead.yaml`). `letters` writes what they say (domain only);
`pdf` draws them (fpdf2, imported only when a PDF is made); `service` puts the two together
for the web, the CLI and the mail dispatcher."""
