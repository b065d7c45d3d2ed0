// GET /console: the web console (docs/console in the README), served by the service itself: no
// CDN, works offline. The page asks for an API key and talks to /api/v1 (events, calls, lines).
import { Controller, Get, Header, Logger, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { loadConsoleAssets, type ConsoleAsset } from './console-assets';

interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
}
interface ResponseLike {
  status(code: number): ResponseLike;
  setHeader(name: string, value: string): void;
  end(body?: Buffer | string): void;
}

/** What the page may load and talk to: only this origin; nothing inline; no framing. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private readonly assets: Map<string, ConsoleAsset>;
  private readonly problem: string | undefined;

  constructor(config: AppConfig) {
    const { assets, missing } = loadConsoleAssets();
    this.assets = assets;
    const log = new Logger('Console');
    if (!config.api.enabled) {
      this.problem = 'the console needs the REST API: set api.enabled to true';
    } else if (missing.length > 0) {
      this.problem = `the console was not built (missing ${missing.join(', ')}): run npm run build`;
    }
    if (this.problem) log.warn(`/console: ${this.problem}`);
  }

  @Get()
  @Header('Content-Security-Policy', CONSOLE_CSP)
  page(@Req() req: RequestLike, @Res() res: ResponseLike): void {
    this.send('index.html', req, res);
  }

  @Get(':file')
  file(@Param('file') file: string, @Req() req: RequestLike, @Res() res: ResponseLike): void {
    this.send(file, req, res);
  }

  private send(name: string, req: RequestLike, res: ResponseLike): void {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (this.problem) {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.status(503).end(`Messaging Host console: ${this.problem}\n`);
      return;
    }
    const asset = this.assets.get(name);
    if (!asset) {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.status(404).end('no such console file\n');
      return;
    }
    res.setHeader('Content-Type', asset.type);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('ETag', asset.etag);
    if (name === 'index.html') res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    if (req.headers['if-none-match'] === asset.etag) {
      res.status(304).end();
      return;
    }
    res.status(200).end(asset.body);
  }
}
