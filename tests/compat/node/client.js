// Drive the npm package perspective-api-client, unmodified, against this service.
//
//   node client.js BASE_URL API_KEY
//
// The package posts to Google's fixed URL with its own axios import; a request
// interceptor on that same axios instance rewrites the host, as a site switching
// to us would. The package has no SuggestCommentScore call, so that one goes
// through the same axios instance. Prints one JSON object of what it saw.
'use strict';

const axios = require('axios');
const Perspective = require('perspective-api-client');

const GOOGLE = 'https://commentanalyzer.googleapis.com';
const [base, key] = process.argv.slice(2);

axios.interceptors.request.use((config) => {
  config.url = config.url.replace(GOOGLE, base);
  return config;
});

const TOXIC = 'Only a nitwit would write this. Otherwise the photos are nice.';
const BENIGN = 'Thanks for the write-up, the section on tide pools was lovely.';
// Our own; the fake multilingual model knows "Trottel" and "imbécil".
const GERMAN_TOXIC = 'Nur ein Trottel schreibt so etwas. Die Fotos sind aber schön.';
const SPANISH_TOXIC = 'Solo un imbécil escribiría algo así. Las fotos, en cambio, son bonitas.';
const GERMAN_BENIGN = 'Danke für den Bericht, der Abschnitt über die Gezeitentümpel war sehr schön.';
const SPANISH_BENIGN = 'Gracias por el reportaje, la parte sobre las pozas de marea era preciosa.';
const DUTCH = 'Bedankt voor het verslag, het stuk over de getijdenpoelen was erg mooi.';

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    const data = error.response ? error.response.data : null;
    return {
      name: error.name,
      message: error.message,
      status: error.response ? error.response.status : null,
      error: data ? data.error : null,
    };
  }
}

async function main() {
  const client = new Perspective({apiKey: key});
  const attributes = ['toxicity', 'insult'];
  const toxic = await client.analyze(TOXIC, {attributes});
  const benign = await client.analyze(BENIGN, {attributes});
  const html = await client.analyze('<p>You <b>nitwit</b>!</p>', {attributes: ['INSULT']});
  const stored = await client.analyze(
    {comment: {text: TOXIC}, requestedAttributes: {TOXICITY: {}}, clientToken: 'node-1'},
    {doNotStore: false},
  );
  const languages = {};
  for (const [name, text, language] of [
    ['germanToxic', GERMAN_TOXIC, 'de'],
    ['germanBenign', GERMAN_BENIGN, undefined],
    ['spanishToxic', SPANISH_TOXIC, 'es'],
    ['spanishBenign', SPANISH_BENIGN, undefined],
  ]) {
    const answer = await client.analyze(
      {comment: {text}, requestedAttributes: {TOXICITY: {}}, ...(language ? {languages: [language]} : {})},
    );
    languages[name] = {
      toxicity: answer.attributeScores.TOXICITY.summaryScore.value,
      languages: answer.languages,
      detectedLanguages: answer.detectedLanguages,
    };
  }
  const suggest = await axios.post(
    `${GOOGLE}/v1alpha1/comments:suggestscore`,
    {comment: {text: BENIGN}, attributeScores: {TOXICITY: {summaryScore: {value: 0.05}}}, clientToken: 'node-2'},
    {params: {key}},
  );
  const result = {
    toxic: toxic.attributeScores,
    benign: benign.attributeScores,
    html: html.attributeScores,
    stored: {clientToken: stored.clientToken, languages: stored.languages},
    languages,
    suggest: suggest.data,
    errors: {
      unknownAttribute: await failure(client.analyze(BENIGN, {attributes: ['spam']})),
      badKey: await failure(new Perspective({apiKey: 'msk_not-a-key'}).analyze(BENIGN)),
      dutch: await failure(client.analyze({comment: {text: DUTCH}, languages: ['nl']})),
      tooLong: await failure(client.analyze('é'.repeat(10241), {validate: false, stripHTML: false})),
    },
  };
  process.stdout.write(JSON.stringify(result));
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
